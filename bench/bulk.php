<?php
// Bulk and single inserts per backend. Run by hand, with the release build:
//
//   php -d extension=target/release/libstask.so bench/bulk.php [sqlite|pgsql|mariadb ...]
//
// 1. sTask::createMany(): rows/s for one call of STASK_BENCH_ROWS rows
//    (default 100000), and for calls of 1000 rows.
// 2. sTask::create() against a raw one-row INSERT from PDO into the same
//    table (a second fresh s_tasks with its indexes, the same columns, one transaction per
//    row as create() has, the id read back: RETURNING on PostgreSQL,
//    lastInsertId() on SQLite (see below why) and MariaDB). One of each in
//    turn, so load from other processes hits both alike; medians of rounds.
//
// The box is shared: run it when `uptime` shows the lowest load, and read the
// figures as such.

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

require __DIR__ . '/../php/autoload.php';

$backends = array_slice($argv, 1) ?: ['sqlite', 'pgsql', 'mariadb'];
$rows = (int) (getenv('STASK_BENCH_ROWS') ?: 100_000);
$singles = (int) (getenv('STASK_BENCH_SINGLES') ?: 3000);
$rounds = (int) (getenv('STASK_BENCH_ROUNDS') ?: 5);
$dir = sys_get_temp_dir() . '/stask-bench-bulk-' . getmypid();
@mkdir($dir, 0775, true);

function connection(string $backend, string $dir, string $prefix): array
{
    return match ($backend) {
        'sqlite' => ['driver' => 'sqlite', 'database' => "$dir/$prefix.sqlite", 'storage_path' => "$dir/storage"],
        'pgsql' => ['driver' => 'pgsql', 'host' => '127.0.0.1', 'port' => 5432, 'database' => 'test', 'username' => 'postgres', 'prefix' => $prefix, 'storage_path' => "$dir/storage"],
        'mariadb' => ['driver' => 'mysql', 'host' => '127.0.0.1', 'port' => 3306, 'database' => 'test', 'username' => 'root', 'prefix' => $prefix, 'storage_path' => "$dir/storage"],
    };
}

function pdo(string $backend, array $conn): PDO
{
    $pdo = match ($backend) {
        'sqlite' => new PDO('sqlite:' . $conn['database']),
        'pgsql' => new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', ''),
        'mariadb' => new PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', ''),
    };
    $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
    if ($backend === 'sqlite') {
        // As the extension opens it.
        $pdo->exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000');
    }
    return $pdo;
}

/** A fresh, migrated set of tables for one measurement. */
function fresh(string $backend, string $dir, string $tag): array
{
    $prefix = $tag . '_' . bin2hex(random_bytes(3)) . '_';
    $conn = connection($backend, $dir, $prefix);
    sTask::configure($conn);
    sTask::migrate();
    return [$conn, $backend === 'sqlite' ? 's_tasks' : $prefix . 's_tasks'];
}

function drop(string $backend, array $conn, string $table): void
{
    if ($backend !== 'sqlite') {
        $p = $conn['prefix'];
        $pdo = pdo($backend, $conn);
        foreach (['s_tasks', 's_workers', 's_task_leaders', 's_task_schedules', 's_task_processes', 's_task_attempts', 's_task_migrations'] as $t) {
            try {
                $pdo->exec("DROP TABLE IF EXISTS {$p}{$t}");
            } catch (PDOException) {
            }
        }
    }
}

function median(array $xs): float
{
    sort($xs);
    return $xs[intdiv(count($xs), 2)];
}

function tasks(int $n, int $from = 0): array
{
    $out = [];
    for ($i = $from; $i < $from + $n; $i++) {
        $out[] = ['identifier' => 'bench', 'action' => 'noop', 'data' => ['i' => $i], 'priority' => ['low', 'normal', 'high'][$i % 3]];
    }
    return $out;
}

printf(
    "stask %s, PHP %s, %d cores, load %s; createMany of %d rows, %d single inserts x %d rounds\n",
    phpversion('stask'),
    PHP_VERSION,
    (int) shell_exec('nproc'),
    implode(' ', array_map(fn ($l) => sprintf('%.2f', $l), sys_getloadavg())),
    $rows,
    $singles,
    $rounds
);

foreach ($backends as $backend) {
    echo "\n== $backend\n";

    // createMany, one call.
    $batch = tasks($rows);
    $one = [];
    for ($r = 0; $r < 3; $r++) {
        [$conn, $table] = fresh($backend, $dir, "bm$r");
        $t = hrtime(true);
        $ids = sTask::createMany($batch);
        $one[] = count($ids) / ((hrtime(true) - $t) / 1e9);
        if (sTaskModel::query()->count() !== $rows) {
            fwrite(STDERR, "expected $rows rows\n");
            exit(1);
        }
        drop($backend, $conn, $table);
    }
    printf("  %-52s %10.0f rows/s  (runs: %s)\n", "createMany, one call of $rows", median($one), implode(', ', array_map(fn ($x) => sprintf('%.0f', $x), $one)));

    // createMany, calls of 1000.
    [$conn, $table] = fresh($backend, $dir, 'bk');
    $chunks = array_chunk($batch, 1000);
    $t = hrtime(true);
    foreach ($chunks as $chunk) {
        sTask::createMany($chunk);
    }
    printf("  %-52s %10.0f rows/s\n", 'createMany, calls of 1000', $rows / ((hrtime(true) - $t) / 1e9));
    drop($backend, $conn, $table);
    unset($batch, $chunks);

    // create() against a raw one-row INSERT into the same table: two fresh
    // copies of it (the same schema and indexes), one for each, so that
    // neither pays for the other's writes (on SQLite, a second connection's
    // commits make the first re-read its cached pages).
    [$rawConn, $rawTable] = fresh($backend, $dir, 'br');
    [$conn, $table] = fresh($backend, $dir, 'bs');
    $pdo = pdo($backend, $rawConn);
    // PostgreSQL reads the id back with RETURNING, as create() does. SQLite
    // and MariaDB take lastInsertId(): on SQLite a RETURNING read with one
    // fetch leaves the statement short of its end, and SQLite then never
    // runs its automatic WAL checkpoint (the WAL grows by every insert,
    // which is fast until the reads slow down); create() steps to the end.
    $returning = $backend === 'pgsql' ? ' RETURNING id' : '';
    $ins = $pdo->prepare(
        "INSERT INTO $rawTable (identifier, action, status, meta, attempts, max_attempts, priority, priority_rank, progress, created_at, updated_at, available_at) "
        . "VALUES ('bench', 'noop', 10, ?, 0, 3, 'normal', 5, 0, ?, ?, ?)$returning"
    );
    // Interleaved one by one, so that load from other processes falls on
    // both alike; per round, the rate of each over the same stretch of time.
    $raw = $create = [];
    for ($r = 0; $r < $rounds; $r++) {
        $tRaw = $tCreate = 0;
        for ($i = 0; $i < $singles; $i++) {
            $t = hrtime(true);
            $now = gmdate('Y-m-d H:i:s');
            $ins->execute(['{"i":' . $i . '}', $now, $now, $now]);
            $id = $returning === '' ? (int) $pdo->lastInsertId() : (int) $ins->fetchColumn();
            $t2 = hrtime(true);
            sTask::create('bench', 'noop', ['i' => $i]);
            $t3 = hrtime(true);
            $tRaw += $t2 - $t;
            $tCreate += $t3 - $t2;
        }
        $raw[] = $singles / ($tRaw / 1e9);
        $create[] = $singles / ($tCreate / 1e9);
    }
    printf("  %-52s %10.0f /s  (rounds: %s)\n", 'raw PDO one-row INSERT, same table', median($raw), implode(', ', array_map(fn ($x) => sprintf('%.0f', $x), $raw)));
    printf("  %-52s %10.0f /s  (rounds: %s)\n", 'sTask::create', median($create), implode(', ', array_map(fn ($x) => sprintf('%.0f', $x), $create)));
    $ratios = array_map(fn ($c, $r) => $c / $r, $create, $raw);
    printf("  %-52s %10.0f %%  (per round: %s)\n", 'create / raw, median of rounds', 100 * median($ratios), implode(', ', array_map(fn ($x) => sprintf('%.0f%%', 100 * $x), $ratios)));
    unset($ins, $pdo);
    drop($backend, $conn, $table);
    drop($backend, $rawConn, $rawTable);
}
exec('rm -rf ' . escapeshellarg($dir));
