<?php

/**
 * End-to-end demo of the example workers on a throw-away SQLite database:
 *
 *   php -d extension=target/debug/libstask.so examples/demo.php
 *
 * Registers and activates the three workers, queues an import, an export
 * and an e-mail campaign, runs them with sTask::work() and prints what
 * happened.
 */

declare(strict_types=1);

require __DIR__ . '/autoload.php';

use Examples\Workers\EmailCampaignWorker;
use Examples\Workers\ProductSyncWorker;
use Examples\Workers\ProductWorker;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

$root = sys_get_temp_dir() . '/stask-demo-' . getmypid();
if (!function_exists('storage_path')) {
    // The workers write exports and the outbox under the CMS storage folder.
    function storage_path(string $path = ''): string
    {
        return $GLOBALS['root'] . '/storage' . ($path === '' ? '' : '/' . $path);
    }
}

sTask::configure([
    'driver' => 'sqlite',
    'database' => "{$root}/stask.sqlite",
    'prefix' => '',
    'storage_path' => storage_path('stask'),
    'base_path' => $root,
]);
sTask::migrate();

foreach ([ProductWorker::class, ProductSyncWorker::class, EmailCampaignWorker::class] as $class) {
    $worker = sTask::getWorker((new $class())->identifier()) ?? sTask::registerWorker($class);
    sTask::activateWorker($worker->identifier);
}

sTask::create('product', 'import', ['rows' => 500], 'high');
sTask::create('product', 'export', ['filters' => ['category_id' => 2], 'fields' => ['id', 'sku', 'price']]);
sTask::create('email_campaign', 'send', [
    'subject' => 'Demo',
    'recipients' => [
        ['email' => 'ann@example.com', 'name' => 'Ann'],
        ['email' => 'bob@example.com', 'name' => 'Bob'],
        ['email' => 'not-an-address', 'name' => 'Nobody'],
    ],
]);
sTask::create('product_sync', 'import', ['file' => "{$root}/missing.csv"]);

echo 'work(): ' . json_encode(sTask::work(['max_tasks' => 4, 'max_seconds' => 5, 'sleep' => 0])) . "\n\n";

foreach (sTaskModel::query()->orderBy('id', 'asc')->get() as $task) {
    printf("#%d %s.%s: %s (%d%%) %s\n", $task->id, $task->identifier, $task->action, $task->status_text, $task->progress, $task->message);
    if ($task->result !== null) {
        echo '    result: ' . json_encode($task->result, JSON_UNESCAPED_SLASHES) . "\n";
    }
}

echo "\nstats: " . json_encode(sTask::getStats()) . "\n";
echo "files under {$root}\n";
