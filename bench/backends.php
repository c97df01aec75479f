<?php
// No-op tasks/s with 1, 2 and 4 worker processes, and pickup latency
// (created in one process, started in another), on each backend; plus the
// claim time with 10k and 1M finished rows in the table. Run by hand:
//
//   php -d extension=target/release/libstask.so bench/backends.php [sqlite|pgsql|mariadb ...]
//
// STASK_BENCH_TASKS (default 20000) sets the no-op tasks per run.

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

require __DIR__ . '/../php/autoload.php';

$backends = array_slice($argv, 1) ?: ['sqlite', 'pgsql', 'mariadb'];
$n = (int) (getenv('STASK_BENCH_TASKS') ?: 20000);
$lib = (string) (getenv('STASK_LIB') ?: __DIR__ . '/../target/release/libstask.so');
$dir = sys_get_temp_dir() . '/stask-bench-' . getmypid();
@mkdir($dir, 0775, true);

final class BenchWorker implements \Seiger\sTask\Contracts\TaskInterface
{
    public function identifier(): string { return 'bench'; }
    public function scope(): string { return 'bench'; }
    public function icon(): string { return ''; }
    public function title(): string { return 'Bench'; }
    public function description(): string { return ''; }
    public function renderWidget(): string { return ''; }
    public function settings(): array { return []; }
    public function taskNoop($task, array $o = []): void {}
    public function taskPickup($task, array $o = []): void
    {
        file_put_contents((string) getenv('STASK_BENCH_LEDGER'), sprintf("%.6f\n", microtime(true) - (float) $o['t']), FILE_APPEND);
    }
}

if (getenv('STASK_BENCH_CHILD')) {
    sTask::configure(json_decode((string) getenv('STASK_BENCH_CONNECTION'), true));
    sTask::work(json_decode((string) getenv('STASK_BENCH_WORK'), true));
    exit(0);
}

function connection(string $backend, string $dir, string $prefix): array
{
    return match ($backend) {
        'sqlite' => ['driver' => 'sqlite', 'database' => "$dir/$prefix.sqlite", 'storage_path' => "$dir/storage"],
        'pgsql' => ['driver' => 'pgsql', 'host' => '127.0.0.1', 'port' => 5432, 'database' => 'test', 'username' => 'postgres', 'prefix' => $prefix, 'storage_path' => "$dir/storage"],
        'mariadb' => ['driver' => 'mysql', 'host' => '127.0.0.1', 'port' => 3306, 'database' => 'test', 'username' => 'root', 'prefix' => $prefix, 'storage_path' => "$dir/storage"],
    };
}

/** @return list<int> */
function workers(int $count, array $conn, array $work, string $lib, array $env = []): array
{
    $pids = [];
    for ($i = 0; $i < $count; $i++) {
        $pid = pcntl_fork();
        if ($pid === 0) {
            pcntl_exec(PHP_BINARY, ['-d', 'extension=' . $lib, __FILE__], $env + [
                'STASK_BENCH_CHILD' => '1',
                'STASK_BENCH_CONNECTION' => json_encode($conn),
                'STASK_BENCH_WORK' => json_encode($work),
            ] + getenv());
            exit(127);
        }
        $pids[] = $pid;
    }
    return $pids;
}

function fill(int $n): void
{
    for ($i = 0; $i < $n; $i++) {
        sTask::create('bench', 'noop');
    }
}

function pct(array $xs, float $p): float
{
    sort($xs);
    return $xs[(int) floor($p * (count($xs) - 1))] * 1000;
}

printf("stask %s, PHP %s, %d cores, %d no-op tasks per run\n", phpversion('stask'), PHP_VERSION, (int) shell_exec('nproc'), $n);
foreach ($backends as $backend) {
    echo "\n== $backend\n";
    foreach ([1, 2, 4] as $procs) {
        $prefix = "b{$procs}_" . bin2hex(random_bytes(2)) . '_';
        $conn = connection($backend, $dir, $prefix);
        sTask::configure($conn);
        sTask::migrate();
        sTask::registerWorker(BenchWorker::class);
        sTask::activateWorker('bench');
        fill($n);
        $t = hrtime(true);
        foreach (workers($procs, $conn, ['stop_when_empty' => true], $lib) as $pid) {
            pcntl_waitpid($pid, $status);
        }
        $secs = (hrtime(true) - $t) / 1e9;
        $done = sTaskModel::completed()->count();
        printf("  %d process%s  %8.0f tasks/s  (%d completed in %.2fs)\n", $procs, $procs > 1 ? 'es' : '  ', $done / $secs, $done, $secs);
    }

    // Pickup: one idle worker, tasks created one at a time from here.
    $prefix = 'bp_' . bin2hex(random_bytes(2)) . '_';
    $conn = connection($backend, $dir, $prefix);
    sTask::configure($conn);
    sTask::migrate();
    sTask::registerWorker(BenchWorker::class);
    sTask::activateWorker('bench');
    $ledger = "$dir/pickup-$backend.txt";
    @unlink($ledger);
    [$pid] = workers(1, $conn, ['max_seconds' => 30], $lib, ['STASK_BENCH_LEDGER' => $ledger]);
    usleep(500_000);
    for ($i = 0; $i < 200; $i++) {
        sTask::create('bench', 'pickup', ['t' => microtime(true)]);
        usleep(random_int(20_000, 60_000));
    }
    usleep(300_000);
    posix_kill($pid, SIGTERM);
    pcntl_waitpid($pid, $status);
    $lat = array_map('floatval', file($ledger, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES));
    printf("  pickup latency  p50 %.1f ms  p95 %.1f ms  (%d samples)\n", pct($lat, 0.5), pct($lat, 0.95), count($lat));
}
exec('rm -rf ' . escapeshellarg($dir));
