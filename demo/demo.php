<?php
// The stask demo on the embedded SQLite default (make demo).
//
// Registers the example workers of the seed (product import/export, e-mail
// campaign, product sync), queues tasks of each priority, works them in a
// child process while this process prints their live progress, then prints
// the statistics.

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

require __DIR__ . '/../php/autoload.php';
require __DIR__ . '/../examples/autoload.php';
if (is_file('/usr/share/php/Carbon/autoload.php')) {
    require '/usr/share/php/Carbon/autoload.php';
}

$storage = __DIR__ . '/storage/stask';
if (!function_exists('storage_path')) {
    function storage_path(string $path = ''): string
    {
        return __DIR__ . '/storage' . ($path === '' ? '' : '/' . $path);
    }
}
@mkdir($storage, 0775, true);
foreach (glob($storage . '/stask.sqlite*') ?: [] as $old) {
    unlink($old);
}

sTask::configure([
    'driver' => 'sqlite',
    'database' => $storage . '/stask.sqlite',
    'storage_path' => $storage,
    'progress_interval' => 0.1,
]);

printf("stask %s on %s\n\n", sTask::version(), $storage . '/stask.sqlite');

foreach ([\Examples\Workers\ProductWorker::class, \Examples\Workers\EmailCampaignWorker::class, \Examples\Workers\ProductSyncWorker::class] as $class) {
    $worker = sTask::registerWorker($class);
    sTask::activateWorker($worker->identifier);
    printf("registered worker %-15s %s (%s)\n", $worker->identifier, $worker->title, $worker->scope);
}

$recipients = [];
for ($i = 1; $i <= 400; $i++) {
    $recipients[] = ['email' => "user{$i}@example.com", 'name' => "User {$i}"];
}
// The example workers read only files uploaded to sTask: storage/uploads.
@mkdir($storage . '/uploads', 0775, true);
$csv = $storage . '/uploads/supplier.csv';
$fh = fopen($csv, 'wb');
fputcsv($fh, ['sku', 'name', 'price']);
for ($i = 1; $i <= 80; $i++) {
    fputcsv($fh, ["SKU-$i", "Product $i", $i * 3]);
}
fclose($fh);

$queued = [
    sTask::create(identifier: 'product', action: 'export', data: ['format' => 'csv', 'fields' => ['id', 'sku', 'name', 'price']], priority: 'low'),
    sTask::create(identifier: 'email_campaign', action: 'send', data: ['template' => 'newsletter', 'subject' => 'Monthly Newsletter', 'recipients' => $recipients], priority: 'normal'),
    sTask::create(identifier: 'product', action: 'import', data: ['rows' => 60, 'pace_ms' => 25], priority: 'high'),
    sTask::create(identifier: 'product_sync', action: 'import', data: ['file' => $csv, 'pace_ms' => 20], priority: 'normal'),
    sTask::create(identifier: 'system', action: 'cleanup', data: ['older_than_days' => 30, 'clean_cache' => true], priority: 'low'),
];
echo "\nqueued:\n";
foreach (sTask::getPendingTasks(limit: 10) as $task) {
    printf("  #%d %-15s %-8s priority %s\n", $task->id, $task->identifier, $task->action, $task->priority);
}

echo "\nworking (a child process runs the worker loop; this one shows progress):\n";
$pid = pcntl_fork();
if ($pid === 0) {
    sTask::work(['stop_when_empty' => true]);
    exit(0);
}

$seen = [];
do {
    $done = pcntl_waitpid($pid, $status, WNOHANG) !== 0;
    foreach ($queued as $task) {
        $p = sTask::progress($task->id);
        $line = sprintf('  #%d %-15s %-8s %-10s %3d%%  eta %-7s %s', $p['id'], $p['identifier'], $p['action'], $p['status'], $p['progress'], $p['eta'], $p['message']);
        if (($seen[$task->id] ?? '') !== $line) {
            echo $line, "\n";
            $seen[$task->id] = $line;
        }
    }
    usleep(100_000);
} while (!$done);

echo "\nresults:\n";
foreach ($queued as $task) {
    $task = $task->fresh();
    $result = is_array($task->result) ? json_encode($task->result, JSON_UNESCAPED_SLASHES) : (string) $task->result;
    printf("  #%d %-15s %-9s %.3fs  %s\n", $task->id, $task->identifier, $task->status_text, $task->duration, mb_strimwidth($result, 0, 90, '…'));
}

$stats = sTask::getStats();
echo "\nstatistics:\n";
foreach (['pending', 'running', 'completed', 'failed', 'cancelled', 'total', 'total_workers', 'active_workers'] as $key) {
    printf("  %-15s %d\n", $key, $stats[$key]);
}
$perf = sTask::getPerformanceMetrics(hours: 1);
printf("  success rate    %.2f%%\n  avg duration    %.3fs\n  avg peak memory %.1f MiB\n", $perf['performance']['success_rate'], $perf['performance']['average_duration'], $perf['performance']['average_memory'] / 1048576);
printf("  completed tasks %d\n", sTaskModel::completed()->count());
