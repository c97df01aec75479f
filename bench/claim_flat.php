<?php
// The claim query stays flat as finished rows pile up: claim time with
// 10k and with 1M completed rows in s_tasks, per backend. Run by hand:
//
//   php -d extension=target/release/libstask.so bench/claim_flat.php [sqlite|pgsql|mariadb ...]

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;

require __DIR__ . '/../php/autoload.php';

$backends = array_slice($argv, 1) ?: ['sqlite', 'pgsql', 'mariadb'];
$dir = sys_get_temp_dir() . '/stask-claimbench-' . getmypid();
@mkdir($dir, 0775, true);

final class FlatWorker implements \Seiger\sTask\Contracts\TaskInterface
{
    public function identifier(): string { return 'flat'; }
    public function scope(): string { return 'bench'; }
    public function icon(): string { return ''; }
    public function title(): string { return 'Flat'; }
    public function description(): string { return ''; }
    public function renderWidget(): string { return ''; }
    public function settings(): array { return []; }
    public function taskNoop($task, array $o = []): void {}
}

/** [stask connection, PDO] for a backend and prefix. */
function open(string $backend, string $dir, string $prefix): array
{
    return match ($backend) {
        'sqlite' => [['driver' => 'sqlite', 'database' => "$dir/$prefix.sqlite", 'storage_path' => "$dir/st"], new PDO("sqlite:$dir/$prefix.sqlite")],
        'pgsql' => [['driver' => 'pgsql', 'host' => '127.0.0.1', 'database' => 'test', 'username' => 'postgres', 'prefix' => $prefix, 'storage_path' => "$dir/st"], new PDO('pgsql:host=127.0.0.1;dbname=test', 'postgres')],
        'mariadb' => [['driver' => 'mysql', 'host' => '127.0.0.1', 'database' => 'test', 'username' => 'root', 'prefix' => $prefix, 'storage_path' => "$dir/st"], new PDO('mysql:host=127.0.0.1;dbname=test', 'root')],
    };
}

/** Copies one completed row until the table holds $rows of them (doubling). */
function grow(PDO $pdo, string $table, int $rows): void
{
    $cols = 'identifier, action, status, message, meta, attempts, max_attempts, priority, priority_rank, progress, created_at, updated_at, available_at, finished_at';
    $have = (int) $pdo->query("SELECT COUNT(*) FROM $table WHERE status = 30")->fetchColumn();
    while ($have < $rows) {
        $take = min($have, $rows - $have);
        $pdo->exec("INSERT INTO $table ($cols) SELECT $cols FROM $table WHERE status = 30 LIMIT $take");
        $have += $take;
    }
}

printf("stask %s: claim of one task, average of 300 claims\n", phpversion('stask'));
foreach ($backends as $backend) {
    $prefix = 'cf_' . bin2hex(random_bytes(2)) . '_';
    [$conn, $pdo] = open($backend, $dir, $prefix);
    sTask::configure($conn);
    sTask::migrate();
    sTask::registerWorker(FlatWorker::class);
    sTask::activateWorker('flat');
    $table = $prefix . 's_tasks';
    if ($backend === 'sqlite') {
        $table = 's_tasks';
    }
    sTask::create('flat', 'noop');
    sTask::processPendingTasks(1);
    foreach ([10_000, 1_000_000] as $rows) {
        grow($pdo, $table, $rows);
        if ($backend === 'pgsql') {
            $pdo->exec("ANALYZE $table");
        }
        for ($i = 0; $i < 300; $i++) {
            sTask::create('flat', 'noop');
        }
        $t = hrtime(true);
        $done = 0;
        while (($k = sTask::processPendingTasks(1)) > 0) {
            $done += $k;
        }
        $us = (hrtime(true) - $t) / 1e3 / max($done, 1);
        printf("  %-8s %9d finished rows: %7.1f us per claimed+completed task (%d tasks)\n", $backend, $rows, $us, $done);
    }
    if ($backend !== 'sqlite') {
        $pdo->exec("DROP TABLE IF EXISTS {$prefix}s_tasks");
        $pdo->exec("DROP TABLE IF EXISTS {$prefix}s_workers");
    }
}
exec('rm -rf ' . escapeshellarg($dir));
