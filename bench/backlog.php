<?php
// Throughput stays flat however deep the queue is: one process works the
// same number of no-op tasks out of queues of 5k to 1M pending tasks, per
// backend. The statistics are left as the inserts made them (PostgreSQL on
// these machines runs without autovacuum): a claim must be fast whatever
// they say. Run by hand:
//
//   php -d extension=target/release/libstask.so bench/backlog.php [--max=1000000] [--work=5000] [sqlite|pgsql|mariadb ...]
//
// Prints tasks/s per depth and the ratio to the shallowest queue; the goal
// is every ratio within 0.8..1.2.

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;

require __DIR__ . '/../php/autoload.php';

$max = 1_000_000;
$work = 5_000;
$backends = [];
foreach (array_slice($argv, 1) as $arg) {
    if (str_starts_with($arg, '--max=')) {
        $max = (int) substr($arg, 6);
    } elseif (str_starts_with($arg, '--work=')) {
        $work = (int) substr($arg, 7);
    } else {
        $backends[] = $arg;
    }
}
$backends = $backends ?: ['sqlite', 'pgsql', 'mariadb'];
$depths = array_values(array_filter([5_000, 50_000, 200_000, 1_000_000], static fn ($d) => $d <= $max));
$dir = sys_get_temp_dir() . '/stask-backlog-' . getmypid();
@mkdir($dir, 0775, true);

final class BacklogWorker implements \Seiger\sTask\Contracts\TaskInterface
{
    public function identifier(): string { return 'backlog'; }
    public function scope(): string { return 'bench'; }
    public function icon(): string { return ''; }
    public function title(): string { return 'Backlog'; }
    public function description(): string { return ''; }
    public function renderWidget(): string { return ''; }
    public function settings(): array { return []; }
    public function taskNoop($task, array $o = []): void {}
}

/** [stask connection, PDO, table] for a backend and prefix. */
function open(string $backend, string $dir, string $prefix): array
{
    return match ($backend) {
        'sqlite' => [['driver' => 'sqlite', 'database' => "$dir/$prefix.sqlite", 'storage_path' => "$dir/st"], new PDO("sqlite:$dir/$prefix.sqlite"), 's_tasks'],
        'pgsql' => [['driver' => 'pgsql', 'host' => '127.0.0.1', 'database' => 'test', 'username' => 'postgres', 'prefix' => $prefix, 'storage_path' => "$dir/st"], new PDO('pgsql:host=127.0.0.1;dbname=test', 'postgres'), $prefix . 's_tasks'],
        'mariadb' => [['driver' => 'mysql', 'host' => '127.0.0.1', 'database' => 'test', 'username' => 'root', 'prefix' => $prefix, 'storage_path' => "$dir/st"], new PDO('mysql:host=127.0.0.1;dbname=test', 'root'), $prefix . 's_tasks'],
    };
}

/** Copies pending rows until the table holds $rows of them (doubling, in the database). */
function grow(PDO $pdo, string $table, int $rows): void
{
    $cols = 'identifier, action, status, message, meta, attempts, max_attempts, priority, priority_rank, progress, created_at, updated_at, available_at';
    $have = (int) $pdo->query("SELECT COUNT(*) FROM $table WHERE status = 10")->fetchColumn();
    if ($have === 0) {
        // The previous depth was worked to the end: one pending row to double from.
        $pdo->exec("INSERT INTO $table ($cols) SELECT identifier, action, 10, NULL, meta, 0, max_attempts, priority, priority_rank, 0, created_at, updated_at, NULL FROM $table LIMIT 1");
        $have = 1;
    }
    while ($have < $rows) {
        $take = min($have, $rows - $have);
        $pdo->exec("INSERT INTO $table ($cols) SELECT $cols FROM $table WHERE status = 10 LIMIT $take");
        $have += $take;
    }
    settle($pdo, $table);
}

/**
 * Lets the database absorb the grow step before the timed work, so that the
 * figure is the claim's cost at this depth, not the one-time cost of the
 * rows just written: SQLite checkpoints the WAL the INSERT … SELECT left
 * (800k rows for the 1M step), PostgreSQL's first read of fresh rows sets
 * their hint bits (a count does it). A queue that was imported earlier and
 * then worked is in this state; statistics stay as the inserts left them.
 */
function settle(PDO $pdo, string $table): void
{
    $pdo->query("SELECT COUNT(*) FROM $table")->fetchAll();
    if ($pdo->getAttribute(PDO::ATTR_DRIVER_NAME) === 'sqlite') {
        $pdo->query('PRAGMA wal_checkpoint(TRUNCATE)')->fetchAll();
    }
    if ($pdo->getAttribute(PDO::ATTR_DRIVER_NAME) === 'pgsql') {
        $pdo->query('CHECKPOINT');
    }
}

function dropTables(string $backend, PDO $pdo, string $prefix): void
{
    if ($backend === 'sqlite') {
        return;
    }
    foreach (['s_tasks', 's_workers', 's_task_leaders', 's_task_schedules', 's_task_processes', 's_task_attempts'] as $t) {
        try {
            $pdo->exec("DROP TABLE IF EXISTS {$prefix}{$t}");
        } catch (\Throwable) {
        }
    }
}

printf("stask %s, PHP %s, %d cores; %d no-op tasks worked by one process out of each queue depth\n", phpversion('stask'), PHP_VERSION, (int) shell_exec('nproc'), $work);
foreach ($backends as $backend) {
    $prefix = 'bl_' . bin2hex(random_bytes(2)) . '_';
    [$conn, $pdo, $table] = open($backend, $dir, $prefix);
    sTask::configure($conn);
    sTask::migrate();
    sTask::registerWorker(BacklogWorker::class);
    sTask::activateWorker('backlog');
    sTask::create('backlog', 'noop');
    // Warm-up, untimed: the first claims of a process pay for connections,
    // prepared statements and caches, which no depth should be charged for.
    grow($pdo, $table, 2_000);
    sTask::work(['stop_when_empty' => true]);
    $shallow = null;
    foreach ($depths as $depth) {
        grow($pdo, $table, $depth);
        $t = hrtime(true);
        // What a worker does: sTask::work(), here stopping after $work tasks
        // (processPendingTasks() would work the whole queue).
        $done = sTask::work(['max_tasks' => $work, 'stop_when_empty' => true])['processed'];
        $rate = $done / ((hrtime(true) - $t) / 1e9);
        $shallow ??= $rate;
        printf("  %-8s %9d pending: %8.0f tasks/s  (%.2f of the %d-deep rate)\n", $backend, $depth, $rate, $rate / $shallow, $depths[0]);
    }
    dropTables($backend, $pdo, $prefix);
}
