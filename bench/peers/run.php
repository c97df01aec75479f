<?php
// stask beside its peers, in one run on this machine: the targets of issue 12
// with their figures, the peer's figure, the ratio and PASS/FAIL, in one
// table (printed, and written to bench/peers/RESULTS.md). Started by
// bench/peers/run.sh (`make bench-peers`), which installs what is missing
// and gives this script a private copy of the release extension in $STASK_LIB.
//
// Legs (details in the header of each script):
//   stask.php            SQLite raw UPDATE vs sTask::work; PostgreSQL 1/2
//                        processes, batch 1, pickup latency
//   graphile/bench.js    graphile-worker 0.17 batched / unbatched, pickup, add_jobs
//   ../laravel/run.php   Laravel 8 database and redis queues vs the stask driver
//   ../bulk.php          createMany rows/s; create() vs a raw one-row INSERT
//   stask.php backlog    5k tasks worked out of 5k..PEERS_BACKLOG_MAX pending
//                        (bench/backlog.php's measure; that script cannot refill
//                        the queue its first depth empties, and hangs there)
//
// Settings (environment): PEERS_RUNS (3: medians of this many runs of the short
// legs), PEERS_N (20000 no-op tasks/jobs per throughput run), PEERS_N_SERIAL
// (2000, for the one-commit-per-task legs), PEERS_PICKUP (200 samples),
// PEERS_LARAVEL_N (10000 jobs per Laravel phase), PEERS_LARAVEL_BULK (50000),
// PEERS_ADD_JOBS (100000), PEERS_BULK_ROUNDS (5), PEERS_BACKLOG_MAX (200000;
// 1000000 for the full bench), PEERS_BACKLOG_TIMEOUT (180 s per backend: a
// backlog that collapses is stopped and reported with the depths it reached),
// PEERS_RESULTS (the Markdown file; "-" for none).

declare(strict_types=1);

const HERE = __DIR__;
const ROOT = __DIR__ . '/../..';

function env_int(string $name, int $default): int
{
    $v = getenv($name);
    return ($v === false || $v === '') ? $default : max(1, (int) $v);
}

$runs = env_int('PEERS_RUNS', 3);
$n = env_int('PEERS_N', 20000);
$nSerial = env_int('PEERS_N_SERIAL', 2000);
$pickupSamples = env_int('PEERS_PICKUP', 200);
$laravelN = env_int('PEERS_LARAVEL_N', 10000);
$laravelBulk = env_int('PEERS_LARAVEL_BULK', 50000);
$addJobsN = env_int('PEERS_ADD_JOBS', 100000);
$bulkRounds = env_int('PEERS_BULK_ROUNDS', 5);
$backlogMax = env_int('PEERS_BACKLOG_MAX', 200000);
$backlogTimeout = env_int('PEERS_BACKLOG_TIMEOUT', 180);
$resultsFile = getenv('PEERS_RESULTS') ?: HERE . '/RESULTS.md';
$lib = (string) getenv('STASK_LIB');
if ($lib === '' || !is_file($lib)) {
    fwrite(STDERR, "run.php: STASK_LIB must name the built extension (start it through bench/peers/run.sh)\n");
    exit(2);
}

// ---- running the legs --------------------------------------------------------

final class LegError extends RuntimeException
{
    /** What the command printed on stdout before it failed. */
    public string $output = '';
}

/** Runs a command; returns its stdout, throws LegError with its stderr on failure. */
function sh(array $cmd, array $env = [], ?string $cwd = null, int $timeout = 3600): string
{
    $label = basename($cmd[0]) . ' ' . implode(' ', array_map('basename', array_slice($cmd, 1, 3)));
    $p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $cwd, $env + getenv());
    if (!is_resource($p)) {
        throw new LegError("cannot start $label");
    }
    stream_set_blocking($pipes[1], false);
    stream_set_blocking($pipes[2], false);
    $out = $err = '';
    $t = microtime(true);
    while (true) {
        $r = [$pipes[1], $pipes[2]];
        $w = $x = null;
        stream_select($r, $w, $x, 1);
        $out .= (string) stream_get_contents($pipes[1]);
        $err .= (string) stream_get_contents($pipes[2]);
        $st = proc_get_status($p);
        if (!$st['running']) {
            $out .= (string) stream_get_contents($pipes[1]);
            $err .= (string) stream_get_contents($pipes[2]);
            $code = $st['exitcode'];
            break;
        }
        if (microtime(true) - $t > $timeout) {
            proc_terminate($p, 9);
            $e = new LegError("$label: stopped after {$timeout} s");
            $e->output = $out;
            throw $e;
        }
    }
    fclose($pipes[1]);
    fclose($pipes[2]);
    proc_close($p);
    if ($code !== 0) {
        // The first line of stderr says what went wrong (a stack trace follows).
        $lines = array_values(array_filter(array_map('trim', explode("\n", $err !== '' ? $err : $out)), 'strlen'));
        $why = ($lines[0] ?? '') . (count($lines) > 1 ? ' … ' . end($lines) : '');
        throw new LegError("$label exited $code: $why");
    }
    return $out;
}

/** The last line of $out that is a JSON object. */
function json_line(string $out): array
{
    foreach (array_reverse(explode("\n", trim($out))) as $line) {
        $j = json_decode($line, true);
        if (is_array($j)) {
            return $j;
        }
    }
    throw new LegError('no JSON in output: ' . substr($out, -300));
}

function php_leg(array $args, array $env = []): array
{
    global $lib;
    return json_line(sh(array_merge([PHP_BINARY, '-d', "extension=$lib", HERE . '/stask.php'], $args), $env + ['STASK_LIB' => $lib]));
}

function node_leg(array $args): array
{
    return json_line(sh(array_merge(['node', HERE . '/graphile/bench.js'], $args), [], HERE . '/graphile'));
}

function median(array $xs): ?float
{
    $xs = array_values(array_filter($xs, static fn ($x) => $x !== null));
    if ($xs === []) {
        return null;
    }
    sort($xs);
    $c = count($xs);
    return $c % 2 ? $xs[intdiv($c, 2)] : ($xs[$c / 2 - 1] + $xs[$c / 2]) / 2;
}

/** Samples of a figure, and the first error met while measuring it. */
final class Figure
{
    public array $xs = [];
    public ?string $error = null;

    /**
     * Measures once. A leg cut off by a database server restart (the test
     * suites of other sessions restart PostgreSQL and MariaDB) is run again
     * once the server is back, once; any other failure is this figure's error.
     */
    public function add(callable $measure): void
    {
        for ($attempt = 1; ; $attempt++) {
            try {
                $this->xs[] = $measure();
                return;
            } catch (Throwable $e) {
                if ($attempt === 1 && is_restart($e->getMessage())) {
                    fwrite(STDERR, "  a database server restarted during this leg; waiting for it, then running the leg again\n");
                    wait_for_servers();
                    $GLOBALS['restarts'] = ($GLOBALS['restarts'] ?? 0) + 1;
                    continue;
                }
                $this->error ??= $e->getMessage();
                fwrite(STDERR, "  ERROR: {$e->getMessage()}\n");
                return;
            }
        }
    }

    public function value(): ?float
    {
        return $this->error === null ? median($this->xs) : null;
    }

    public function spread(): string
    {
        return count($this->xs) > 1 ? sprintf('%s–%s', fmt(min($this->xs)), fmt(max($this->xs))) : '';
    }
}

function fmt(?float $x, int $dec = 0): string
{
    return $x === null ? '–' : number_format($x, $x < 10 && $dec === 0 ? 1 : $dec);
}

$figures = [];
function fig(string $key): Figure
{
    global $figures;
    return $figures[$key] ??= new Figure();
}

function step(string $what): void
{
    printf("[%s] %s  (load %s)\n", gmdate('H:i:s'), $what, busy());
}

// ---- tables other scripts leave behind ----------------------------------------

/** Tables of database `test` on the servers (name => true). */
function is_restart(string $message): bool
{
    return (bool) preg_match('/terminating connection due to administrator command|the database system is (shutting down|starting up)|server closed the connection|Connection refused|MySQL server has gone away|Lost connection to (MySQL|MariaDB)/i', $message);
}

/** Waits (up to 120 s) until PostgreSQL and MariaDB accept connections again. */
function wait_for_servers(): void
{
    $until = microtime(true) + 120;
    while (true) {
        try {
            (new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', ''))->query('SELECT 1');
            (new PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', ''))->query('SELECT 1');
            usleep(500_000);
            return;
        } catch (PDOException $e) {
            if (microtime(true) > $until) {
                throw $e;
            }
            usleep(500_000);
        }
    }
}

function server_tables(): array
{
    wait_for_servers();
    $pg = new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', '');
    $my = new PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', '');
    return [
        'pgsql' => array_flip($pg->query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")->fetchAll(PDO::FETCH_COLUMN)),
        'mariadb' => array_flip($my->query('SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()')->fetchAll(PDO::FETCH_COLUMN)),
    ];
}

/**
 * Drops the tables that appeared since $before under the prefixes the legs
 * use (bench/bulk.php: bm0_x_, bk_x_, br_x_, bs_x_; bench/backlog.php: bl_x_;
 * stask.php: pkxxxxxx_; bench/laravel: lqbxxxxxx_), which a leg that failed
 * or was stopped leaves behind. Nothing else is touched.
 */
function drop_new_tables(array $before): void
{
    try {
        drop_new_tables_now($before);
    } catch (Throwable $e) {
        fwrite(STDERR, "  could not drop the tables legs left behind: {$e->getMessage()}\n");
    }
}

function drop_new_tables_now(array $before): void
{
    $after = server_tables();
    $ours = '/^((bm\d|bk|br|bs|bl)_[0-9a-f]{4,6}_|(pk|lqb)[0-9a-f]{6}_)/';
    $pg = new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', '');
    $my = new PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', '');
    foreach (array_diff_key($after['pgsql'], $before['pgsql']) as $t => $_) {
        if (preg_match($ours, $t)) {
            $pg->exec("DROP TABLE IF EXISTS \"$t\" CASCADE");
        }
    }
    foreach (array_diff_key($after['mariadb'], $before['mariadb']) as $t => $_) {
        if (preg_match($ours, $t)) {
            $my->exec("DROP TABLE IF EXISTS `$t`");
        }
    }
}

// ---- the machine -------------------------------------------------------------

/**
 * Other work on the box (builds, test suites, other PHP or Node processes)
 * that moves the figures. Called between legs, when none of ours runs: any
 * php/node process then but this one belongs to someone else.
 */
function others(): array
{
    $names = [];
    foreach (glob('/proc/[0-9]*/cmdline') as $f) {
        $pid = (int) basename(dirname($f));
        $argv = explode("\0", (string) @file_get_contents($f));
        $exe = basename($argv[0] ?? '');
        if ($pid === getmypid() || $exe === '') {
            continue;
        }
        $name = match (true) {
            in_array($exe, ['cargo', 'rustc', 'cc1', 'ld', 'chromium', 'chrome', 'node'], true) => $exe,
            str_starts_with($exe, 'php') => str_contains(implode(' ', $argv), 'phpunit') ? 'phpunit' : 'php',
            default => null,
        };
        if ($name !== null) {
            $names[$name] = ($names[$name] ?? 0) + 1;
        }
    }
    return $names;
}

/** Load average and the other work seen now; remembers the most of each seen so far. */
function busy(): string
{
    static $seen = [];
    foreach (others() as $k => $v) {
        $seen[$k] = max($seen[$k] ?? 0, $v);
    }
    $GLOBALS['othersSeen'] = $seen;
    $load = implode(' ', array_map(static fn ($l) => sprintf('%.2f', $l), sys_getloadavg()));
    $GLOBALS['loadSeen'][] = sys_getloadavg()[0];
    return $load;
}

function others_seen(): string
{
    $seen = $GLOBALS['othersSeen'] ?? [];
    return $seen ? implode(', ', array_map(static fn ($k, $v) => "{$k} (up to {$v})", array_keys($seen), $seen)) : 'none';
}

function machine(string $lib): array
{
    $pg = new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', '');
    $my = new PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', '');
    $lite = new PDO('sqlite::memory:');
    $redis = trim((string) shell_exec("redis-cli -h 127.0.0.1 INFO server 2>/dev/null | grep redis_version | cut -d: -f2"));
    $commit = trim((string) shell_exec('git -C ' . escapeshellarg(ROOT) . ' rev-parse --short HEAD 2>/dev/null'));
    $dirty = trim((string) shell_exec('git -C ' . escapeshellarg(ROOT) . ' status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock php/src 2>/dev/null'));
    $graphile = json_decode((string) @file_get_contents(HERE . '/graphile/node_modules/graphile-worker/package.json'), true)['version'] ?? '?';
    $stask = trim((string) shell_exec(escapeshellarg(PHP_BINARY) . ' -d extension=' . escapeshellarg($lib) . " -r 'echo phpversion(\"stask\");'"));
    $laravel = trim((string) shell_exec(escapeshellarg(PHP_BINARY) . " -r 'require \"Illuminate/autoload.php\"; echo Illuminate\\Foundation\\Application::VERSION;' 2>/dev/null"));
    return [
        'CPU' => sprintf('%d cores (nproc), %s', (int) shell_exec('nproc'), trim((string) shell_exec("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"))),
        'OS' => trim((string) shell_exec('. /etc/os-release && echo "$PRETTY_NAME"')),
        'PHP' => PHP_VERSION . (extension_loaded('redis') ? ', phpredis ' . phpversion('redis') : ''),
        'stask' => sprintf('%s, release build of %s%s (%s)', $stask, $commit, $dirty !== '' ? ' (the working tree also held uncommitted changes of other sessions in src/ or php/src/ at run time)' : '', 'built ' . gmdate('Y-m-d H:i', (int) filemtime($lib)) . ' UTC'),
        'PostgreSQL' => (string) $pg->query('SHOW server_version')->fetchColumn() . ' (autovacuum ' . $pg->query('SHOW autovacuum')->fetchColumn() . ', synchronous_commit ' . $pg->query('SHOW synchronous_commit')->fetchColumn() . ')',
        'MariaDB' => (string) $my->query('SELECT VERSION()')->fetchColumn(),
        'SQLite' => (string) $lite->query('SELECT sqlite_version()')->fetchColumn() . ' (PDO; stask bundles its own through rusqlite)',
        'Redis' => $redis ?: '?',
        'Node' => trim((string) shell_exec('node --version')),
        'graphile-worker' => $graphile,
        'Laravel' => $laravel,
    ];
}

$machine = machine($lib);
$busyStart = busy();
echo "stask beside its peers (issue 12), one run\n";
foreach ($machine as $k => $v) {
    printf("  %-16s %s\n", $k, $v);
}
printf("  %-16s load %s; other processes: %s\n", 'at start', $busyStart, others_seen());
printf("  %-16s runs %d, %d tasks per throughput run, %d per serial run, %d pickups, Laravel %d jobs\n\n", 'settings', $runs, $n, $nSerial, $pickupSamples, $laravelN);
$t0 = microtime(true);
$schema = 'gwpeers_' . bin2hex(random_bytes(4));
$tablesAtStart = server_tables();

try {
    // ---- 1-3: throughput, interleaved run by run --------------------------------
    for ($r = 1; $r <= $runs; $r++) {
        step("run $r/$runs: SQLite, one process");
        // One round gives both figures (raw UPDATE, then stask, in one process).
        $sqliteRun = null;
        fig('sqlite.raw')->add(function () use ($n, &$sqliteRun) {
            $sqliteRun = php_leg(['sqlite', (string) $n]);
            return $sqliteRun['raw_update_per_s'];
        });
        fig('sqlite.stask')->add(fn () => $sqliteRun['work_per_s'] ?? throw new LegError('the SQLite round failed'));
        foreach ([1, 2] as $procs) {
            step("run $r/$runs: PostgreSQL, $procs process(es): stask, graphile batched");
            $leg = null;
            fig("pg.stask.$procs")->add(function () use ($n, $procs, &$leg) {
                $leg = php_leg(['throughput', 'pgsql', (string) $n, (string) $procs]);
                return $leg['per_s'];
            });
            fig("pg.stask.$procs.wall")->add(fn () => $leg['wall_per_s'] ?? throw new LegError('the stask run failed'));
            $leg = null;
            fig("pg.graphile.$procs")->add(function () use ($n, $procs, $schema, &$leg) {
                $leg = node_leg(['throughput', "--schema=$schema", "--jobs=$n", "--procs=$procs", '--batched=1']);
                return $leg['per_s'];
            });
            fig("pg.graphile.$procs.wall")->add(fn () => $leg['wall_per_s'] ?? throw new LegError('the graphile run failed'));
        }
        step("run $r/$runs: PostgreSQL, one commit per task: stask batch 1, graphile unbatched");
        fig('pg.stask.b1')->add(fn () => php_leg(['throughput', 'pgsql', (string) $nSerial, '1', '{"batch":1}'])['per_s']);
        fig('pg.graphile.unbatched')->add(fn () => node_leg(['throughput', "--schema=$schema", "--jobs=$nSerial", '--procs=1', '--batched=0'])['per_s']);
        step("run $r/$runs: graphile add_jobs, $addJobsN jobs in calls of 1,000");
        fig('bulk.graphile')->add(fn () => node_leg(['addjobs', "--schema=$schema", "--jobs=$addJobsN", '--chunk=1000'])['per_s']);
    }

    // ---- 4: pickup latency --------------------------------------------------------
    step("pickup latency, PostgreSQL, $pickupSamples samples each");
    $pickup = [];
    fig('pickup.stask')->add(function () use ($pickupSamples, &$pickup) {
        $pickup['stask'] = php_leg(['pickup', 'pgsql', (string) $pickupSamples]);
        return $pickup['stask']['p50_ms'];
    });
    fig('pickup.graphile')->add(function () use ($pickupSamples, $schema, &$pickup) {
        $pickup['graphile'] = node_leg(['pickup', "--schema=$schema", "--samples=$pickupSamples"]);
        return $pickup['graphile']['p50_ms'];
    });

    // ---- 5: Laravel jobs ------------------------------------------------------------
    step("Laravel 8 on SQLite: database queue, redis queue, stask driver ($runs runs of $laravelN jobs; Queue::bulk of $laravelBulk)");
    $laravel = null;
    $json = sys_get_temp_dir() . '/peers-laravel-' . getmypid() . '.json';
    $laravelLeg = new Figure();
    $laravelLeg->add(function () use ($runs, $laravelN, $laravelBulk, $json, &$laravel, $lib) {
        $out = sh([ROOT . '/bench/laravel_queue.sh', "--runs=$runs", '--backends=sqlite', '--systems=laravel,redis,stask-driver', '--workers=1', "--n-sqlite=$laravelN", "--bulk=$laravelBulk", "--json=$json"], ['STASK_EXTENSION' => $lib]);
        echo preg_replace('/^/m', '    ', trim(substr($out, (int) strpos($out, 'Medians')))), "\n";
        $laravel = json_decode((string) file_get_contents($json), true);
        @unlink($json);
        return 0.0;
    });
    foreach (['laravel', 'redis', 'stask-driver'] as $system) {
        $f = fig("laravel.$system");
        $f->error = $laravelLeg->error;
        foreach ($laravel['results']['sqlite'][$system][1] ?? [] as $phase) {
            if ($phase['done'] !== $phase['n']) {
                $f->error ??= "$system: {$phase['done']} of {$phase['n']} jobs done";
            }
            $f->xs[] = $phase['loop_per_s'];
        }
    }
    foreach (['redis', 'stask-driver'] as $system) {
        $f = fig("bulk.laravel.$system");
        $f->error = $laravelLeg->error;
        $f->xs = $laravel['bulk']['sqlite'][$system] ?? [];
    }

    // ---- 6: bulk and single creates -------------------------------------------------
    step("bench/bulk.php: createMany and create() vs raw INSERT on SQLite, PostgreSQL, MariaDB ($bulkRounds rounds)");
    $before = server_tables();
    $bulkLeg = new Figure();
    $bulkOut = '';
    $bulkLeg->add(function () use ($lib, $bulkRounds, &$bulkOut) {
        $bulkOut = sh([PHP_BINARY, '-d', "extension=$lib", ROOT . '/bench/bulk.php', 'sqlite', 'pgsql', 'mariadb'], ['STASK_BENCH_ROUNDS' => (string) $bulkRounds]);
        echo preg_replace('/^/m', '    ', trim($bulkOut)), "\n";
        return 0.0;
    });
    drop_new_tables($before);
    $section = null;
    foreach (explode("\n", $bulkOut) as $line) {
        if (preg_match('/^== (\w+)/', $line, $m)) {
            $section = $m[1];
        } elseif ($section && preg_match('/^\s+createMany, one call of \d+\s+(\d+) rows\/s(?:\s+\(runs: ([\d, ]+)\))?/', $line, $m)) {
            fig("bulk.$section")->xs = array_map('floatval', explode(', ', $m[2] ?? $m[1]));
        } elseif ($section && preg_match('/^\s+raw PDO one-row INSERT, same table\s+(\d+) \/s(?:\s+\(rounds: ([\d, ]+)\))?/', $line, $m)) {
            fig("insert.$section.raw")->xs = array_map('floatval', explode(', ', $m[2] ?? $m[1]));
        } elseif ($section && preg_match('/^\s+sTask::create\s+(\d+) \/s(?:\s+\(rounds: ([\d, ]+)\))?/', $line, $m)) {
            fig("insert.$section.stask")->xs = array_map('floatval', explode(', ', $m[2] ?? $m[1]));
        }
    }
    // create() / raw per round (the two are interleaved one by one within a
    // round), then the median of those ratios: bench/bulk.php's own measure.
    foreach (['sqlite', 'pgsql', 'mariadb'] as $b) {
        $raw = fig("insert.$b.raw")->xs;
        $mine = fig("insert.$b.stask")->xs;
        if ($raw !== [] && count($raw) === count($mine)) {
            fig("insert.$b.ratio")->xs = array_map(static fn ($c, $r) => $c / $r, $mine, $raw);
        }
    }
    foreach (['sqlite', 'pgsql', 'mariadb'] as $b) {
        foreach (["bulk.$b", "insert.$b.raw", "insert.$b.stask", "insert.$b.ratio"] as $k) {
            if (fig($k)->xs === []) {
                fig($k)->error = $bulkLeg->error ?? 'no figure in bench/bulk.php output';
            }
        }
    }

    // ---- 7: backlog -------------------------------------------------------------------
    step("backlog (bench/backlog.php's measure, stask.php backlog): 5,000 tasks out of 5k..$backlogMax pending, SQLite, PostgreSQL, MariaDB; at most $backlogTimeout s each");
    // One backend at a time, each with its own time limit: the depths
    // reached before a limit still count (and the row then fails).
    $before = server_tables();
    $backlog = $backlogErrors = [];
    foreach (['sqlite', 'pgsql', 'mariadb'] as $b) {
        $out = '';
        try {
            $out = sh([PHP_BINARY, '-d', "extension=$lib", HERE . '/stask.php', 'backlog', $b, (string) $backlogMax, '5000'], ['STASK_LIB' => $lib], null, $backlogTimeout);
        } catch (LegError $e) {
            $out = $e->output;
            $backlogErrors[$b] = $e->getMessage();
            fwrite(STDERR, "  backlog $b: {$e->getMessage()}\n");
        }
        foreach (explode("\n", $out) as $line) {
            $j = json_decode($line, true);
            if (is_array($j) && isset($j['depth'], $j['per_s'])) {
                $backlog[$b][(int) $j['depth']] = (float) $j['per_s'];
                printf("    %-8s %8d pending: %8.0f tasks/s\n", $b, $j['depth'], $j['per_s']);
            }
        }
    }
    drop_new_tables($before);
} finally {
    drop_new_tables($tablesAtStart);
    try {
        wait_for_servers();
        node_leg(['drop', "--schema=$schema"]);
    } catch (Throwable $e) {
        fwrite(STDERR, "could not drop schema $schema: {$e->getMessage()}\n");
    }
}
$busyEnd = busy();
$minutes = (microtime(true) - $t0) / 60;

// ---- the table ----------------------------------------------------------------------

$rows = [];
/**
 * One row: what, stask's figure, the peer's, ratio, target, verdict.
 * $goal: ['ratio', min] (stask/peer ≥ min), ['min', x] (stask ≥ x),
 * ['max', x] (stask ≤ x) or null (shown for reference).
 */
function row(string $what, Figure $stask, ?Figure $peer, ?array $goal, string $unit = '/s', string $peerLabel = '', ?Figure $ratioOf = null): array
{
    $s = $stask->value();
    $p = $peer?->value();
    $ratio = $ratioOf !== null ? $ratioOf->value() : (($s !== null && $p) ? $s / $p : null);
    // An absolute target (min, max) holds or not whatever became of the peer.
    $error = in_array($goal[0] ?? null, ['min', 'max'], true) ? $stask->error : ($stask->error ?? $peer?->error);
    [$target, $ok] = match ($goal[0] ?? null) {
        'ratio' => [sprintf('≥ %s× peer', rtrim(rtrim(sprintf('%.2f', $goal[1]), '0'), '.')), $ratio !== null ? $ratio >= $goal[1] : null],
        'min' => [sprintf('≥ %s%s', fmt($goal[1]), $unit), $s !== null ? $s >= $goal[1] : null],
        'max' => [sprintf('≤ %s%s', rtrim(rtrim(sprintf('%.2f', $goal[1]), '0'), '.'), $unit), $s !== null ? $s <= $goal[1] : null],
        default => ['(reference)', null],
    };
    $cell = static fn (?Figure $f, ?float $v) => $f === null ? '–' : ($f->error !== null ? 'ERROR' : fmt($v, $unit === ' ms' ? 1 : 0) . ($unit === ' ms' ? ' ms' : '') . ($f->spread() !== '' && $unit !== ' ms' ? " ({$f->spread()})" : ''));
    $verdict = $error !== null ? 'ERROR: ' . mb_strimwidth(preg_replace('/\s+/', ' ', $error), 0, 160, '…') : ($goal === null ? '' : ($ok ? 'PASS' : 'FAIL'));
    return [$what, $cell($stask, $s), ($peerLabel !== '' ? "$peerLabel " : '') . $cell($peer, $p), $ratio === null ? '–' : sprintf($ratio < 10 ? '%.3f' : '%.1f', $ratio), $target, $verdict];
}

$rows[] = row('1. SQLite, 1 process: no-op tasks/s (sTask::work) vs raw PDO indexed one-row UPDATE tx/s', fig('sqlite.stask'), fig('sqlite.raw'), ['ratio', 1.5]);
$rows[] = row('2. PostgreSQL, 2 processes: tasks/s vs graphile-worker batched, 2 × -j1', fig('pg.stask.2'), fig('pg.graphile.2'), ['ratio', 1.5]);
$rows[] = row('   the same, spawn-to-exit wall (PHP / Node start-up included)', fig('pg.stask.2.wall'), fig('pg.graphile.2.wall'), null);
$rows[] = row('   PostgreSQL, 1 process vs graphile batched -j1', fig('pg.stask.1'), fig('pg.graphile.1'), null);
$rows[] = row('3. PostgreSQL, 1 process, batch 1 vs graphile unbatched -j1', fig('pg.stask.b1'), fig('pg.graphile.unbatched'), ['ratio', 1.0]);
$p95 = static fn (string $who) => isset($pickup[$who]) ? sprintf(' (p95 %.1f)', $pickup[$who]['p95_ms']) : '';
$r = row('4. Pickup p50, PostgreSQL (create in one process, start in an idle worker)', fig('pickup.stask'), fig('pickup.graphile'), ['max', 2.0], ' ms');
$r[1] .= $p95('stask');
$r[2] .= $p95('graphile');
$rows[] = $r;
$rows[] = row('5. Laravel on SQLite, 1 worker: stask driver jobs/s vs `database` queue', fig('laravel.stask-driver'), fig('laravel.laravel'), ['ratio', 3.0]);
$rows[] = row('   … vs Laravel `redis` queue (phpredis)', fig('laravel.stask-driver'), fig('laravel.redis'), ['ratio', 1.5]);
$rows[] = row('6. createMany rows/s, SQLite (peer: Laravel redis Queue::bulk, 1,000 per call)', fig('bulk.sqlite'), fig('bulk.laravel.redis'), ['min', 100000]);
$rows[] = row('   createMany rows/s, PostgreSQL (peer: graphile add_jobs, 1,000 per call)', fig('bulk.pgsql'), fig('bulk.graphile'), ['min', 50000]);
$rows[] = row('   createMany rows/s, MariaDB', fig('bulk.mariadb'), null, ['min', 50000]);
$rows[] = row('   Laravel Queue::bulk on the stask driver (SQLite) vs on redis', fig('bulk.laravel.stask-driver'), fig('bulk.laravel.redis'), null);
foreach (['sqlite' => 'SQLite', 'pgsql' => 'PostgreSQL', 'mariadb' => 'MariaDB'] as $b => $name) {
    $rows[] = row("   create() vs raw one-row INSERT, same indexed table, $name (ratio: median of per-round ratios)", fig("insert.$b.stask"), fig("insert.$b.raw"), ['ratio', 0.9], '/s', '', fig("insert.$b.ratio"));
}
foreach (['sqlite' => 'SQLite', 'pgsql' => 'PostgreSQL', 'mariadb' => 'MariaDB'] as $b => $name) {
    $rates = $backlog[$b] ?? [];
    ksort($rates);
    $timedOut = isset($backlogErrors[$b]) && str_contains($backlogErrors[$b], 'stopped after');
    if ($rates === [] && !$timedOut) {
        $rows[] = ["7. Backlog, $name: 5k tasks/s by pending depth", 'ERROR', '–', '–', 'within ±20 %', 'ERROR: ' . mb_strimwidth((string) ($backlogErrors[$b] ?? "no $b figures in bench/backlog.php output"), 0, 160, '…')];
        continue;
    }
    if ($rates === []) {
        $rows[] = ["7. Backlog, $name: 5k tasks/s by pending depth", "none within {$backlogTimeout} s", '–', '–', 'within ±20 % of the shallowest', 'FAIL'];
        continue;
    }
    $first = reset($rates);
    $ratios = array_map(static fn ($x) => $x / $first, $rates);
    $byDepth = implode(' / ', array_map(static fn ($d, $x) => sprintf('%s: %s', $d >= 1000000 ? ($d / 1000000) . 'M' : ($d / 1000) . 'k', fmt($x)), array_keys($rates), $rates));
    $ok = min($ratios) >= 0.8 && max($ratios) <= 1.2 && !$timedOut;
    if ($timedOut) {
        $next = array_values(array_filter([5_000, 50_000, 200_000, 1_000_000], static fn ($d) => $d > max(array_keys($rates)) && $d <= $GLOBALS['backlogMax']))[0] ?? null;
        $byDepth .= $next !== null ? sprintf(' / %sk: stopped after %d s', $next / 1000, $GLOBALS['backlogTimeout']) : sprintf(' (stopped after %d s)', $GLOBALS['backlogTimeout']);
    }
    $rows[] = ["7. Backlog, $name: 5k tasks/s by pending depth", $byDepth, '–', sprintf('%.3f–%.3f', min($ratios), max($ratios)), 'within ±20 % of the shallowest', $ok ? 'PASS' : 'FAIL'];
}

$head = ['Target', 'stask', 'peer', 'stask/peer', 'target', 'result'];
$widths = array_map(static fn ($i) => max(array_map(static fn ($r) => mb_strlen($r[$i]), array_merge([$head], $rows))), array_keys($head));
$line = static fn (array $r) => implode('  ', array_map(static fn ($c, $w) => $c . str_repeat(' ', max(0, $w - mb_strlen($c))), $r, $widths));
echo "\n", $line($head), "\n", str_repeat('-', array_sum($widths) + 2 * (count($widths) - 1)), "\n";
foreach ($rows as $r) {
    echo $line($r), "\n";
}
$pass = count(array_filter($rows, static fn ($r) => $r[5] === 'PASS'));
$fail = count(array_filter($rows, static fn ($r) => $r[5] === 'FAIL'));
$errors = count(array_filter($rows, static fn ($r) => str_starts_with($r[5], 'ERROR')));
printf("\n%d PASS, %d FAIL, %d ERROR; %.1f minutes. Medians of %d runs (min–max in brackets); bench/bulk.php's figures are its own medians; the backlog's, medians of 5 passes per depth.\n", $pass, $fail, $errors, $minutes, $runs);
printf("at end: load %s; other processes seen between legs: %s\n", $busyEnd, others_seen());
if (($GLOBALS['restarts'] ?? 0) > 0) {
    printf("a database server restarted during %d leg(s) (another session's tests); each was run again\n", $GLOBALS['restarts']);
}

// ---- RESULTS.md ------------------------------------------------------------------------

if ($resultsFile !== '-') {
    $md = "# stask beside its peers: `make bench-peers`\n\n";
    $md .= "The last run of `make bench-peers` (bench/peers/run.sh), written by bench/peers/run.php on "
        . gmdate('Y-m-d H:i') . " UTC in " . sprintf('%.1f', $minutes) . " minutes. Targets from issue 12.\n\n";
    $md .= "## Machine\n\n";
    foreach ($machine as $k => $v) {
        $md .= "* $k: $v\n";
    }
    $md .= "* Load average at start: $busyStart; at end: $busyEnd\n";
    $md .= '* Other processes seen on the box between legs (not this bench\'s): ' . others_seen() . "\n";
    $md .= sprintf("* Settings: PEERS_RUNS=%d, PEERS_N=%d, PEERS_N_SERIAL=%d, PEERS_PICKUP=%d, PEERS_LARAVEL_N=%d, PEERS_LARAVEL_BULK=%d, PEERS_ADD_JOBS=%d, PEERS_BULK_ROUNDS=%d, PEERS_BACKLOG_MAX=%d\n\n", $runs, $n, $nSerial, $pickupSamples, $laravelN, $laravelBulk, $addJobsN, $bulkRounds, $backlogMax);
    $md .= "## Results\n\n";
    $esc = static fn (string $c) => str_replace('|', '\\|', $c);
    $md .= '| ' . implode(' | ', $head) . " |\n|" . str_repeat(' --- |', count($head)) . "\n";
    foreach ($rows as $r) {
        $md .= '| ' . implode(' | ', array_map($esc, $r)) . " |\n";
    }
    $md .= sprintf("\n%d PASS, %d FAIL, %d ERROR. Medians of %d runs, min–max in brackets.\n", $pass, $fail, $errors, $runs);
    if (($GLOBALS['restarts'] ?? 0) > 0) {
        $md .= sprintf("\nA database server was restarted by another session during %d leg(s); each was run again once the server was back.\n", $GLOBALS['restarts']);
    }
    if (($GLOBALS['othersSeen'] ?? []) !== []) {
        $md .= "\n**This run shared the box** with other sessions' work (" . others_seen() . ', load average up to '
            . sprintf('%.1f', max($GLOBALS['loadSeen'] ?? [0])) . ' on ' . (int) shell_exec('nproc') . ' cores): the figures move from run to run'
            . " (see the min–max), so read the ratios of legs run side by side rather than the absolute rates.\n";
    }
    $extra = getenv('PEERS_NOTES');
    if ($extra) {
        $md .= "\n" . trim($extra) . "\n";
    }
    $md .= <<<'MD'

## How each figure is taken

* Rates of workers are taken inside the worker processes (first process's start to last process's end
  around `sTask::work()` / graphile's `runOnce()` / Laravel's worker loop), so interpreter start-up is
  left out for every system alike; all jobs are queued before the workers start.
* 1. `bench/peers/stask.php sqlite`: bench/sqlite.php's raw method (WAL, synchronous=NORMAL, table with
  stask's three indexes, one autocommit `UPDATE … WHERE id = ?` per row), then `sTask::work(['stop_when_empty' => true])`
  in the same process (default batch).
* 2, 3. `bench/peers/stask.php throughput pgsql` (tasks queued by `createMany`, then 1 or 2 `php`
  processes of `sTask::work`, every task checked completed once) beside `bench/peers/graphile/bench.js
  throughput` (jobs queued by `addJobs`, then 1 or 2 Node processes of `runOnce` at concurrency 1;
  batched: `localQueue.size` 500, `completeJobBatchDelay` 0; unbatched: graphile's defaults).
* 4. One idle worker in another process (stask: `sTask::work`; graphile: `run()`, -j1, no local queue,
  LISTEN/NOTIFY); tasks created one at a time 20–60 ms apart; latency = start of the task in the worker
  minus the moment just before the create call (CLOCK_MONOTONIC in both processes).
* 5. `bench/laravel/run.php` (a copy of the tests/laravel app in /tmp, SQLite with WAL): the same `NoopJob`
  dispatched N times to the `database`, `redis` or `stask` connection, then one worker until the queue
  is empty (`queue:work --stop-when-empty --sleep=0 --tries=1`, or `sTask::work(stop_when_empty)` for
  the stask driver, whose tasks LaravelQueueWorker runs). Queue::bulk: calls of 1,000 jobs.
* 6. `bench/bulk.php` (its own medians: 3 calls of 100,000 rows; create() and the raw INSERT interleaved
  one by one over the rounds) and `graphile/bench.js addjobs`.
* 7. `bench/peers/stask.php backlog`: bench/backlog.php's measure (one process works 5,000 tasks out of
  each depth, five passes per depth, the median shown; statistics as the inserts left them), with
  the queue topped up to each depth (before each pass) by
  `createMany` (bench/backlog.php's own `grow()` doubles the pending rows, and after the 5k depth has
  been worked empty it loops forever adding 0 rows).
MD;
    file_put_contents($resultsFile, $md);
    echo "written: $resultsFile\n";
}
exit($errors > 0 ? 1 : 0);
