<?php
// What the scheduler and the live-process heartbeat cost a busy worker: one
// process works a long queue of no-op tasks (long enough for several
// schedule evaluations, every 20 s, and heartbeats, every 15 s) while the
// worker itself has an every-minute cron schedule. Run it with two builds
// (before and after a change) and compare tasks/s. By hand, not in CI.
//
//   php -d extension=target/release/libstask.so bench/overhead.php [tasks] [rounds] [driver]
//   driver: sqlite (default), pgsql or mysql (the test servers on 127.0.0.1)

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;

$n = (int) ($argv[1] ?? 600000);
$rounds = (int) ($argv[2] ?? 3);
$driver = $argv[3] ?? 'sqlite';
$dir = sys_get_temp_dir() . '/stask-overhead-' . getmypid();
@mkdir($dir, 0775, true);

final class NoopWorker implements \Seiger\sTask\Contracts\TaskInterface
{
    public function identifier(): string { return 'noop'; }
    public function scope(): string { return 'bench'; }
    public function icon(): string { return ''; }
    public function title(): string { return 'No-op'; }
    public function description(): string { return 'Does nothing, fast.'; }
    public function renderWidget(): string { return ''; }
    public function settings(): array { return []; }
    public function taskRun($task, array $options = []): void {}
    public function taskMake($task, array $options = []): void {}
}

function median(array $xs): float
{
    sort($xs);
    return $xs[intdiv(count($xs), 2)];
}

$rates = [];
for ($r = 0; $r < $rounds; $r++) {
    $prefix = 'ovh' . getmypid() . "_{$r}_";
    $conn = match ($driver) {
        'sqlite' => ['driver' => 'sqlite', 'database' => "$dir/stask-$r.sqlite"],
        'pgsql' => ['driver' => 'pgsql', 'host' => '127.0.0.1', 'port' => 5432, 'database' => 'test', 'username' => 'postgres', 'password' => ''],
        'mysql' => ['driver' => 'mysql', 'host' => '127.0.0.1', 'port' => 3306, 'database' => 'test', 'username' => 'root', 'password' => ''],
    };
    sTask::configure($conn + ['storage_path' => "$dir/storage-$r", 'prefix' => $driver === 'sqlite' ? '' : $prefix]);
    sTask::migrate();
    sTask::registerWorker(NoopWorker::class);
    sTask::activateWorker('noop');
    $put = sTask::handleHttp([
        'method' => 'PUT', 'path' => '/workers/noop/schedule', 'auth' => ['mode' => 'trusted', 'user_id' => 1],
        'body' => json_encode(['type' => 'cron', 'enabled' => true, 'expression' => '* * * * *']),
        'headers' => ['content-type' => 'application/json'],
    ]);
    if ($put['status'] !== 200) {
        fwrite(STDERR, "schedule not saved: {$put['body']}\n");
        exit(1);
    }
    for ($k = 0; $k < $n; $k += 10000) {
        sTask::createMany(array_fill(0, min(10000, $n - $k), ['identifier' => 'noop', 'action' => 'run']));
    }
    $t = hrtime(true);
    $report = sTask::work(['stop_when_empty' => true]);
    $rates[] = $report['processed'] / ((hrtime(true) - $t) / 1e9);
    printf("  round %d: %d tasks in %.1f s, %.0f /s\n", $r + 1, $report['processed'], (hrtime(true) - $t) / 1e9, end($rates));
    if ($driver !== 'sqlite') {
        $pdo = $driver === 'pgsql' ? new PDO('pgsql:host=127.0.0.1;dbname=test', 'postgres', '') : new PDO('mysql:host=127.0.0.1;dbname=test', 'root', '');
        foreach (['s_tasks', 's_workers', 's_task_leaders', 's_task_schedules', 's_task_processes', 's_task_attempts'] as $table) {
            $pdo->exec("DROP TABLE IF EXISTS {$prefix}{$table}");
        }
    }
}
printf("stask %s on %s, %d no-op tasks x %d rounds, one process: median %.0f tasks/s\n", sTask::version(), $driver, $n, $rounds, median($rates));
exec('rm -rf ' . escapeshellarg($dir));
