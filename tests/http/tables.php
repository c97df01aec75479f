<?php

// `php tables.php seed`: migrates and registers the example workers
// (`product` active, the others inactive). `php tables.php drop`: drops the
// run's prefixed tables on pgsql/mariadb (nothing to do for SQLite, whose
// file goes with the temp folder).

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;

require __DIR__ . '/server.php';

if (($argv[1] ?? '') === 'seed') {
    sTask::migrate();
    foreach ([\Examples\Workers\ProductWorker::class, \Examples\Workers\EmailCampaignWorker::class, \Examples\Workers\ProductSyncWorker::class] as $class) {
        sTask::registerWorker($class);
    }
    sTask::activateWorker('product');
    echo "seeded\n";
    exit(0);
}

$prefix = (string) getenv('STASK_TABLE_PREFIX');
$pdo = match (getenv('STASK_TEST_BACKEND')) {
    'pgsql' => new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', ''),
    'mariadb' => new PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', ''),
    default => null,
};
if ($pdo !== null && preg_match('/^http_[0-9a-f]{8}_$/', $prefix)) {
    foreach (['s_tasks', 's_workers', 's_task_leaders', 's_task_schedules', 's_task_processes', 's_task_attempts'] as $table) {
        $pdo->exec("DROP TABLE IF EXISTS {$prefix}{$table}");
    }
}
