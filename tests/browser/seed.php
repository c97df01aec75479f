<?php

// Prepares the database of a browser-test run: the example workers are
// registered (new workers start inactive); `product` is activated so tasks
// can run, the others stay inactive for the test that activates one.

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;

require __DIR__ . '/bootstrap.php';

sTask::migrate();
foreach ([\Examples\Workers\ProductWorker::class, \Examples\Workers\EmailCampaignWorker::class, \Examples\Workers\ProductSyncWorker::class] as $class) {
    sTask::registerWorker($class);
}
sTask::activateWorker('product');
echo "seeded\n";
