<?php
// The stask legs of `make bench-peers` (bench/peers/run.php starts them; each
// prints one JSON line on stdout). Run by hand:
//
//   php -d extension=target/release/libstask.so bench/peers/stask.php sqlite N
//       one round: the raw one-row UPDATE rate of PDO on a SQLite table indexed
//       like s_tasks (bench/sqlite.php's method: WAL, synchronous=NORMAL,
//       N rows inserted, then N autocommit `UPDATE t SET status = 30 WHERE id = ?`),
//       then N no-op tasks worked in this process by
//       sTask::work(['stop_when_empty' => true]) (queued by createMany first).
//   ... stask.php throughput pgsql|sqlite|mariadb N PROCS ['{"batch":1}']
//       N no-op tasks queued (createMany), then PROCS php processes run
//       sTask::work(stop_when_empty + the given options) at once. Rate =
//       N / (last process's end - first process's start), taken inside the
//       processes around sTask::work(), so PHP start-up is left out; the
//       spawn-to-exit wall rate is printed too. Checks every task completed once.
//   ... stask.php pickup pgsql SAMPLES
//       an idle worker (sTask::work) in a child process; this process creates
//       one task at a time, 20-60 ms apart; latency = task start in the worker
//       - just before sTask::create() here (hrtime: CLOCK_MONOTONIC in both).
//   ... stask.php backlog sqlite|pgsql|mariadb MAX WORK
//       one process works WORK no-op tasks (sTask::work with max_tasks) out of
//       queues of 5k, 50k, 200k and 1M pending tasks (those up to MAX), five
//       passes per depth (median), one JSON line per depth as soon as it is
//       measured. The queue is topped up to the depth by createMany before each
//       pass; statistics stay as the inserts left them.
//       (bench/backlog.php measures the same; its grow() cannot refill a queue
//       that the first depth emptied, so this leg has its own.)
//
// Server backends use a fresh table prefix (pk<random>_) in database `test`,
// dropped at the end; SQLite files live in a temporary folder, removed.

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

require __DIR__ . '/../../php/autoload.php';

final class PeersNoopWorker implements \Seiger\sTask\Contracts\TaskInterface
{
    public function identifier(): string { return 'peers'; }
    public function scope(): string { return 'bench'; }
    public function icon(): string { return ''; }
    public function title(): string { return 'Peers bench'; }
    public function description(): string { return 'No-op and pickup tasks of bench/peers.'; }
    public function renderWidget(): string { return ''; }
    public function settings(): array { return []; }
    public function taskNoop($task, array $o = []): void {}
    public function taskPickup($task, array $o = []): void
    {
        $lat = hrtime(true) / 1e6 - (float) $o['t'];
        file_put_contents((string) getenv('PEERS_LEDGER'), sprintf("%.4f\n", $lat), FILE_APPEND);
    }
}

/** Throws: the `finally` below then still drops the tables (exit() would skip it). */
function fail(string $message): never
{
    throw new RuntimeException("stask.php: $message");
}

function connection(string $backend, string $dir, string $prefix): array
{
    return match ($backend) {
        'sqlite' => ['driver' => 'sqlite', 'database' => "$dir/$prefix.sqlite", 'storage_path' => "$dir/storage"],
        'pgsql' => ['driver' => 'pgsql', 'host' => '127.0.0.1', 'port' => 5432, 'database' => 'test', 'username' => 'postgres', 'prefix' => $prefix, 'storage_path' => "$dir/storage"],
        'mariadb' => ['driver' => 'mysql', 'host' => '127.0.0.1', 'port' => 3306, 'database' => 'test', 'username' => 'root', 'prefix' => $prefix, 'storage_path' => "$dir/storage"],
        default => fail("unknown backend $backend"),
    };
}

/** Drops every table whose name starts with $prefix (server backends). */
function dropPrefix(string $backend, string $prefix): void
{
    if ($backend === 'sqlite') {
        return;
    }
    if (!preg_match('/^pk[0-9a-f]+_$/', $prefix)) {
        fail("refusing to drop tables of prefix $prefix");
    }
    $pdo = $backend === 'pgsql'
        ? new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', '')
        : new PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', '');
    $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
    $sql = $backend === 'pgsql'
        ? "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND left(tablename, ?) = ?"
        : 'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND LEFT(table_name, ?) = ?';
    $q = $pdo->prepare($sql);
    $q->execute([strlen($prefix), $prefix]);
    foreach ($q->fetchAll(PDO::FETCH_COLUMN) as $table) {
        $pdo->exec($backend === 'pgsql' ? "DROP TABLE IF EXISTS \"$table\" CASCADE" : "DROP TABLE IF EXISTS `$table`");
    }
}

function setUp(string $backend, string $dir): array
{
    $prefix = 'pk' . bin2hex(random_bytes(3)) . '_';
    $conn = connection($backend, $dir, $prefix);
    sTask::configure($conn);
    sTask::migrate();
    sTask::registerWorker(PeersNoopWorker::class);
    sTask::activateWorker('peers');
    return [$conn, $prefix];
}

function queue(int $n): void
{
    for ($i = 0; $i < $n; $i += 5000) {
        $batch = [];
        for ($k = $i; $k < min($n, $i + 5000); $k++) {
            $batch[] = ['identifier' => 'peers', 'action' => 'noop'];
        }
        sTask::createMany($batch);
    }
}

/** Starts $count copies of this script in child mode; returns their proc handles. */
function children(int $count, array $env): array
{
    // The children load the extension as this process did (-d extension=...).
    $lib = (string) (getenv('STASK_LIB') ?: __DIR__ . '/../../target/release/libstask.so');
    $self = [PHP_BINARY, '-d', "extension=$lib", __FILE__, 'child'];
    $procs = [];
    for ($i = 0; $i < $count; $i++) {
        $p = proc_open($self, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        if (!is_resource($p)) {
            fail('cannot start a worker process');
        }
        $procs[] = [$p, $pipes];
        $GLOBALS['started'][] = $p;
    }
    return $procs;
}

/** Waits for the children; returns [stdout lines, exit codes, stderr]. */
function reap(array $procs): array
{
    $out = $codes = [];
    $err = '';
    foreach ($procs as [$p, $pipes]) {
        $out[] = trim(stream_get_contents($pipes[1]));
        $err .= stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $codes[] = proc_close($p);
    }
    return [$out, $codes, $err];
}

function rawSqliteUpdate(string $file, int $n): float
{
    foreach ([$file, "$file-wal", "$file-shm"] as $f) {
        @unlink($f);
    }
    $pdo = new PDO("sqlite:$file");
    $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
    $pdo->exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL');
    $pdo->exec('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, status INTEGER, payload TEXT, identifier TEXT, created_at TEXT)');
    $pdo->exec('CREATE INDEX t_claim ON t (status, id); CREATE INDEX t_ident ON t (identifier); CREATE INDEX t_created ON t (created_at)');
    $ins = $pdo->prepare("INSERT INTO t (status, payload, identifier, created_at) VALUES (10, ?, 'noop', ?)");
    for ($i = 0; $i < $n; $i++) {
        $ins->execute(['{"i":' . $i . '}', date('Y-m-d H:i:s')]);
    }
    $upd = $pdo->prepare('UPDATE t SET status = 30 WHERE id = ?');
    $t = hrtime(true);
    for ($i = 1; $i <= $n; $i++) {
        $upd->execute([$i]);
    }
    return $n / ((hrtime(true) - $t) / 1e9);
}

// ---- child mode: one worker loop, reporting its window -------------------
if (($argv[1] ?? '') === 'child') {
    sTask::configure(json_decode((string) getenv('PEERS_CONNECTION'), true));
    sTask::registerWorker(PeersNoopWorker::class);
    $t = hrtime(true);
    $r = sTask::work(json_decode((string) getenv('PEERS_WORK'), true));
    $end = hrtime(true);
    echo json_encode(['start' => $t / 1e9, 'end' => $end / 1e9, 'processed' => $r['processed'] ?? null, 'report' => $r]), "\n";
    exit(0);
}

$mode = $argv[1] ?? '';
$dir = sys_get_temp_dir() . '/stask-peers-' . getmypid() . '-' . bin2hex(random_bytes(2));
@mkdir($dir, 0775, true);
$backend = 'sqlite';
$prefix = null;
try {
    if ($mode === 'sqlite') {
        $n = (int) ($argv[2] ?? 20000);
        $raw = rawSqliteUpdate("$dir/raw.sqlite", $n);
        setUp('sqlite', $dir);
        queue($n);
        $t = hrtime(true);
        $r = sTask::work(['stop_when_empty' => true]);
        $secs = (hrtime(true) - $t) / 1e9;
        if (($r['completed'] ?? null) !== $n) {
            fail("expected $n completed tasks, got " . json_encode($r));
        }
        echo json_encode(['n' => $n, 'raw_update_per_s' => $raw, 'work_per_s' => $n / $secs]), "\n";
    } elseif ($mode === 'throughput') {
        $backend = $argv[2] ?? 'pgsql';
        $n = (int) ($argv[3] ?? 20000);
        $procs = (int) ($argv[4] ?? 1);
        $extra = json_decode($argv[5] ?? '{}', true) ?: [];
        [$conn, $prefix] = setUp($backend, $dir);
        queue($n);
        $t = hrtime(true);
        [$out, $codes, $err] = reap(children($procs, [
            'PEERS_CONNECTION' => json_encode($conn),
            'PEERS_WORK' => json_encode(['stop_when_empty' => true] + $extra),
        ]));
        $wall = (hrtime(true) - $t) / 1e9;
        if (array_filter($codes) !== []) {
            fail('worker exit codes ' . json_encode($codes) . ': ' . substr($err, 0, 2000));
        }
        $start = INF;
        $end = 0.0;
        foreach ($out as $line) {
            $lines = explode("\n", $line);
            $w = json_decode((string) end($lines), true);
            if (!is_array($w)) {
                fail("unexpected worker output: $line");
            }
            $start = min($start, $w['start']);
            $end = max($end, $w['end']);
        }
        $done = sTaskModel::completed()->count();
        $twice = sTaskModel::query()->where('attempts', '>', 1)->count();
        if ($done !== $n || $twice !== 0) {
            fail("expected $n tasks completed once each: completed $done, attempts > 1: $twice");
        }
        echo json_encode(['backend' => $backend, 'n' => $n, 'procs' => $procs, 'options' => $extra, 'per_s' => $n / ($end - $start), 'wall_per_s' => $n / $wall]), "\n";
    } elseif ($mode === 'pickup') {
        $backend = $argv[2] ?? 'pgsql';
        $samples = (int) ($argv[3] ?? 200);
        [$conn, $prefix] = setUp($backend, $dir);
        $ledger = "$dir/pickup.txt";
        touch($ledger);
        $procs = children(1, [
            'PEERS_CONNECTION' => json_encode($conn),
            'PEERS_WORK' => json_encode(['max_seconds' => 3600]),
            'PEERS_LEDGER' => $ledger,
        ]);
        usleep(700_000);
        for ($i = 0; $i < $samples; $i++) {
            sTask::create('peers', 'pickup', ['t' => hrtime(true) / 1e6]);
            usleep(random_int(20_000, 60_000));
        }
        // Wait for the last pickups, then stop the worker (SIGTERM drains it).
        for ($k = 0; $k < 50 && count(file($ledger, FILE_SKIP_EMPTY_LINES)) < $samples; $k++) {
            usleep(100_000);
        }
        $status = proc_get_status($procs[0][0]);
        posix_kill($status['pid'], SIGTERM);
        [, $codes, $err] = reap($procs);
        $lat = array_map('floatval', file($ledger, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES));
        if (count($lat) < $samples) {
            fail('only ' . count($lat) . " of $samples pickups seen (worker exit " . json_encode($codes) . "): $err");
        }
        sort($lat);
        $pct = static fn (float $p) => $lat[(int) floor($p * (count($lat) - 1))];
        echo json_encode(['backend' => $backend, 'samples' => count($lat), 'p50_ms' => $pct(0.5), 'p95_ms' => $pct(0.95)]), "\n";
    } elseif ($mode === 'backlog') {
        $backend = $argv[2] ?? 'sqlite';
        $max = (int) ($argv[3] ?? 200000);
        $work = (int) ($argv[4] ?? 5000);
        [$conn, $prefix] = setUp($backend, $dir);
        // Warm-up (connection, worker lookup, first claims), not timed.
        queue(500);
        sTask::work(['stop_when_empty' => true]);
        foreach ([5_000, 50_000, 200_000, 1_000_000] as $depth) {
            if ($depth > $max) {
                break;
            }
            // Five passes, each from a queue topped up to the depth; the
            // median is the figure (one pass of 5k tasks lasts a fifth of a
            // second, and passes on MariaDB ranged 25k-36k tasks/s at one
            // depth as InnoDB flushed and purged in the background).
            $rates = [];
            for ($pass = 0; $pass < 5; $pass++) {
                queue($depth - sTaskModel::pending()->count());
                $before = sTaskModel::completed()->count();
                $t = hrtime(true);
                $r = sTask::work(['max_tasks' => $work, 'stop_when_empty' => true]);
                $secs = (hrtime(true) - $t) / 1e9;
                $done = sTaskModel::completed()->count() - $before;
                if ($done !== min($work, $depth)) {
                    fail("backlog $depth: expected $work tasks completed, got $done (" . json_encode($r) . ')');
                }
                $rates[] = $done / $secs;
            }
            $sorted = $rates;
            sort($sorted);
            echo json_encode(['backend' => $backend, 'depth' => $depth, 'work' => $done, 'per_s' => $sorted[2], 'passes' => $rates]), "\n";
        }
    } else {
        fail('usage: stask.php sqlite N | throughput BACKEND N PROCS [OPTIONS-JSON] | pickup BACKEND SAMPLES | backlog BACKEND MAX WORK');
    }
} catch (Throwable $e) {
    fwrite(STDERR, $e->getMessage() . "\n");
    $exitCode = 1;
} finally {
    // A worker still running after an error is stopped before its tables go.
    foreach ($GLOBALS['started'] ?? [] as $p) {
        if (is_resource($p) && proc_get_status($p)['running']) {
            proc_terminate($p, SIGKILL);
        }
    }
    if ($prefix !== null) {
        dropPrefix($backend, $prefix);
    }
    exec('rm -rf ' . escapeshellarg($dir));
}
exit($exitCode ?? 0);
