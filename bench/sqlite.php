<?php
// stask on SQLite in one PHP process, beside the raw rate of one-row SQLite
// transactions from PDO on the same box (make bench). Run by hand, not in CI.
//
//   php -d extension=target/release/libstask.so bench/sqlite.php [tasks] [rounds]

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;

$n = (int) ($argv[1] ?? 20000);
$rounds = (int) ($argv[2] ?? 3);
$dir = sys_get_temp_dir() . '/stask-bench-' . getmypid();
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
}

function fresh(string $file): void
{
    foreach ([$file, "$file-wal", "$file-shm"] as $f) {
        @unlink($f);
    }
}

function median(array $xs): float
{
    sort($xs);
    return $xs[intdiv(count($xs), 2)];
}

/**
 * One-row INSERT and UPDATE transactions through PDO, WAL + synchronous=NORMAL,
 * on a bare table, or on a table with the indexes stask's s_tasks carries
 * (each index is one more page written per commit).
 */
function raw(string $file, int $n, bool $indexed = false): array
{
    fresh($file);
    $pdo = new PDO("sqlite:$file");
    $pdo->exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL');
    $pdo->exec('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, status INTEGER, payload TEXT, identifier TEXT, created_at TEXT)');
    if ($indexed) {
        $pdo->exec('CREATE INDEX t_claim ON t (status, id); CREATE INDEX t_ident ON t (identifier); CREATE INDEX t_created ON t (created_at)');
    }
    $ins = $pdo->prepare("INSERT INTO t (status, payload, identifier, created_at) VALUES (10, ?, 'noop', ?)");
    $t = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        $ins->execute(['{"i":' . $i . '}', date('Y-m-d H:i:s')]);
    }
    $insert = $n / ((hrtime(true) - $t) / 1e9);
    $upd = $pdo->prepare('UPDATE t SET status = 30 WHERE id = ?');
    $t = hrtime(true);
    for ($i = 1; $i <= $n; $i++) {
        $upd->execute([$i]);
    }
    $update = $n / ((hrtime(true) - $t) / 1e9);
    return [$insert, $update];
}

$rawIns = $rawUpd = $idxIns = $idxUpd = $creates = $works = [];
for ($r = 0; $r < $rounds; $r++) {
    [$i, $u] = raw("$dir/raw.sqlite", $n);
    $rawIns[] = $i;
    $rawUpd[] = $u;
    [$i, $u] = raw("$dir/raw-indexed.sqlite", $n, true);
    $idxIns[] = $i;
    $idxUpd[] = $u;

    $db = "$dir/stask-$r.sqlite";
    fresh($db);
    sTask::configure(['driver' => 'sqlite', 'database' => $db, 'storage_path' => "$dir/storage-$r"]);
    sTask::registerWorker(NoopWorker::class);
    sTask::activateWorker('noop');

    $t = hrtime(true);
    for ($k = 0; $k < $n; $k++) {
        sTask::create('noop', 'run', ['i' => $k]);
    }
    $creates[] = $n / ((hrtime(true) - $t) / 1e9);

    $t = hrtime(true);
    $report = sTask::work(['stop_when_empty' => true, 'batch' => 128]);
    $works[] = $report['processed'] / ((hrtime(true) - $t) / 1e9);
    if ($report['processed'] !== $n || $report['completed'] !== $n) {
        fwrite(STDERR, "expected $n completed tasks, got " . json_encode($report) . "\n");
        exit(1);
    }
}

$cpu = trim((string) shell_exec("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"));
printf("stask %s, PHP %s, %d cores (%s), %d tasks x %d rounds, medians:\n\n", sTask::version(), PHP_VERSION, (int) shell_exec('nproc'), $cpu, $n, $rounds);
printf("  %-44s %10.0f /s\n", 'raw PDO one-row INSERT transactions', median($rawIns));
printf("  %-44s %10.0f /s\n", 'raw PDO one-row UPDATE transactions', median($rawUpd));
printf("  %-44s %10.0f /s\n", 'raw PDO INSERT, table indexed like s_tasks', median($idxIns));
printf("  %-44s %10.0f /s\n", 'raw PDO UPDATE of status, same table', median($idxUpd));
printf("  %-44s %10.0f /s  (%.0f%% of bare INSERT, %.0f%% of indexed INSERT)\n", 'sTask::create', median($creates), 100 * median($creates) / median($rawIns), 100 * median($creates) / median($idxIns));
printf("  %-44s %10.0f /s  (%.0f%% of bare UPDATE, %.0f%% of indexed UPDATE)\n", 'no-op tasks worked (sTask::work, 1 process)', median($works), 100 * median($works) / median($rawUpd), 100 * median($works) / median($idxUpd));
exec('rm -rf ' . escapeshellarg($dir));
