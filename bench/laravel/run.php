<?php

// Laravel 8's own `database` queue (queue:work) beside stask (sTask::create,
// sTask::work in artisan processes), in one run, on the same database and box.
// Started by bench/laravel_queue.sh, which makes every php process load the
// release extension through PHP_INI_SCAN_DIR. Options:
//   --backends=sqlite,pgsql   --runs=3   --n-sqlite=10000   --n-pgsql=3000
//   --stask-n-sqlite=40000   --stask-n-pgsql=20000
//   --systems=laravel,stask   which legs run:
//       laravel       NoopJob on Laravel's `database` driver, queue:work
//       redis         NoopJob on Laravel's `redis` driver (phpredis, Redis on
//                     127.0.0.1:6379, a key prefix per app copy), queue:work
//       stask-driver  NoopJob on stask's `stask` queue driver, worked by
//                     sTask::work (LaravelQueueWorker runs the job)
//       stask         plain sTask::create tasks, sTask::work
//     (laravel, redis and stask-driver queue --n-<backend> jobs; stask
//     --stask-n-<backend>)
//   --workers=1,2   worker processes per phase
//   --bulk=0        N > 0: also Queue::bulk() of N jobs in calls of 1,000 on
//                   the redis and stask-driver connections (jobs/s)
//   --json=FILE     writes every figure as JSON
// Every phase (enqueue N, then work them with 1 or 2 processes) starts on an
// empty database: a new SQLite file, or a new table prefix in PostgreSQL
// database `test` (dropped afterwards).

declare(strict_types=1);

require_once 'Illuminate/autoload.php';

use Symfony\Component\Process\Process;

const ROOT = __DIR__ . '/../..';
const APP = ROOT . '/tests/laravel';

$opts = getopt('', ['backends::', 'runs::', 'n-sqlite::', 'n-pgsql::', 'stask-n-sqlite::', 'stask-n-pgsql::', 'json::', 'systems::', 'workers::', 'bulk::']);
$backends = explode(',', (string) ($opts['backends'] ?? 'sqlite,pgsql'));
$systems = explode(',', (string) ($opts['systems'] ?? 'laravel,stask'));
$workerCounts = array_map('intval', explode(',', (string) ($opts['workers'] ?? '1,2')));
$bulkN = (int) ($opts['bulk'] ?? 0);
foreach ($systems as $system) {
    if (!in_array($system, ['laravel', 'redis', 'stask-driver', 'stask'], true)) {
        fwrite(STDERR, "unknown system {$system}\n");
        exit(2);
    }
}
$runs = (int) ($opts['runs'] ?? 3);
// Jobs/tasks queued per phase. Laravel's pop slows down as its jobs table
// grows (PostgreSQL, 1 worker: 214 jobs/s with 2,000 queued, 128 with 10,000 here), so
// it gets a short queue, its better case. stask's claim does not depend on
// the queue length (bench/claim_flat.php); it gets a longer run so that its
// start-up (connection, first claims) does not dominate a sub-second window.
// Both rates are per second, so the ratio is a conservative one.
$sizes = [
    'laravel' => ['sqlite' => (int) ($opts['n-sqlite'] ?? 10000), 'pgsql' => (int) ($opts['n-pgsql'] ?? 3000)],
    'stask' => ['sqlite' => (int) ($opts['stask-n-sqlite'] ?? 40000), 'pgsql' => (int) ($opts['stask-n-pgsql'] ?? 20000)],
];
// Laravel jobs on any driver: the same queue length as Laravel's database queue.
$sizes['redis'] = $sizes['stask-driver'] = $sizes['laravel'];
if (in_array('redis', $systems, true) && !extension_loaded('redis')) {
    fwrite(STDERR, "the redis leg needs phpredis (apt-get install php8.2-redis)\n");
    exit(2);
}
$jsonOut = $opts['json'] ?? null;

if (!extension_loaded('stask')) {
    fwrite(STDERR, "the stask extension is not loaded (run bench/laravel_queue.sh)\n");
    exit(2);
}

final class BenchApp
{
    public string $dir;
    public string $prefix;
    public string $redisPrefix;

    public function __construct(public string $backend)
    {
        $this->dir = sys_get_temp_dir() . '/stask-bench-laravel-' . bin2hex(random_bytes(4));
        $this->prefix = $backend === 'sqlite' ? 'evo_' : 'lqb' . bin2hex(random_bytes(3)) . '_';
        $this->redisPrefix = 'stask_bench_' . bin2hex(random_bytes(4)) . ':';
        mkdir($this->dir, 0755, true);
        foreach (['app', 'bootstrap', 'database', 'public', 'resources', 'routes', 'shims', 'config', 'artisan'] as $item) {
            must(['cp', '-R', APP . '/' . $item, $this->dir . '/' . $item]);
        }
        must(['rm', '-rf', $this->dir . '/public/assets', $this->dir . '/bootstrap/cache', $this->dir . '/config/app']);
        foreach (glob($this->dir . '/database/*.sqlite*') as $file) {
            unlink($file);
        }
        must(['sh', APP . '/setup.sh', $this->dir]);
        copy(__DIR__ . '/NoopJob.php', $this->dir . '/app/Jobs/NoopJob.php');
        copy(__DIR__ . '/NoopWorker.php', $this->dir . '/app/Workers/NoopWorker.php');
        copy(__DIR__ . '/queue.php', $this->dir . '/config/queue.php');
        rename($this->dir . '/config/database.php', $this->dir . '/config/database.base.php');
        copy(__DIR__ . '/database.php', $this->dir . '/config/database.php');
        copy(__DIR__ . '/console.php', $this->dir . '/routes/bench.php');
        file_put_contents($this->dir . '/routes/console.php', "\nrequire __DIR__ . '/bench.php';\n", FILE_APPEND);
        if ($backend === 'sqlite') {
            $pdo = new PDO('sqlite:' . $this->dir . '/database/database.sqlite');
            $pdo->exec('PRAGMA journal_mode=WAL');
        }
        // Laravel's jobs table through its own generator, then every migration.
        $this->artisan(['queue:table']);
        $this->artisan(['migrate', '--force']);
    }

    public function env(array $extra = []): array
    {
        $env = [
            'STASK_PHP_DIR' => realpath(ROOT . '/php'),
            'DB_CONNECTION' => $this->backend,
            'DB_PREFIX' => $this->prefix,
            'APP_ENV' => 'production',
            'APP_DEBUG' => 'false',
            'LOG_CHANNEL' => 'single',
            'QUEUE_CONNECTION' => 'database',
            'REDIS_PREFIX' => $this->redisPrefix,
        ];
        if ($this->backend === 'sqlite') {
            $env['DB_DATABASE'] = $this->dir . '/database/database.sqlite';
        }

        return array_merge($env, $extra);
    }

    public function process(array $args, array $env = []): Process
    {
        return new Process(array_merge([PHP_BINARY, 'artisan'], $args), $this->dir, $this->env($env), null, 3600);
    }

    public function artisan(array $args, array $env = []): string
    {
        $p = $this->process($args, $env);
        $p->run();
        if (!$p->isSuccessful()) {
            throw new RuntimeException("artisan " . implode(' ', $args) . " failed:\n" . $p->getOutput() . $p->getErrorOutput());
        }

        return $p->getOutput();
    }

    /** Runs $count copies of `artisan $args` at once; returns [loop rate, wall rate, processed, errors, stderr]. */
    public function workers(int $count, array $args, int $n, array $env = []): array
    {
        $window = $this->dir . '/storage/window-' . bin2hex(random_bytes(3)) . '.txt';
        $procs = [];
        $t = microtime(true);
        for ($i = 0; $i < $count; $i++) {
            $p = $this->process($args, ['BENCH_WINDOW_FILE' => $window] + $env);
            $p->start();
            $procs[] = $p;
        }
        $stderr = '';
        $exits = [];
        foreach ($procs as $p) {
            $p->wait();
            $exits[] = $p->getExitCode();
            $stderr .= $p->getErrorOutput();
        }
        $wall = microtime(true) - $t;
        $start = INF;
        $end = 0.0;
        $processed = 0;
        $errors = 0;
        foreach (file($window, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) ?: [] as $line) {
            [, $s, $e, $p, $x] = explode(' ', $line);
            $start = min($start, (float) $s);
            $end = max($end, (float) $e);
            $processed += (int) $p;
            $errors += (int) $x;
        }
        return [
            'window_s' => $end > $start ? $end - $start : null,
            'wall_s' => $wall,
            'processed' => $processed,
            'errors' => $errors,
            'reported' => count(file($window, FILE_SKIP_EMPTY_LINES) ?: []),
            'exits' => $exits,
            'stderr' => trim(substr($stderr, 0, 2000)),
        ];
    }

    public function count(string $table, string $where = '1=1'): int
    {
        return (int) $this->pdo()->query("SELECT COUNT(*) FROM {$this->prefix}{$table} WHERE {$where}")->fetchColumn();
    }

    public function pdo(): PDO
    {
        $pdo = $this->backend === 'sqlite'
            ? new PDO('sqlite:' . $this->dir . '/database/database.sqlite')
            : new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', '');
        $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);

        return $pdo;
    }

    /** Jobs still in this app's redis queue (waiting, reserved or delayed). */
    public function redisLeft(): int
    {
        $r = $this->redis();
        $q = $this->redisPrefix . 'queues:default';

        return (int) $r->lLen($q) + (int) $r->zCard($q . ':reserved') + (int) $r->zCard($q . ':delayed');
    }

    private function redis(): Redis
    {
        $r = new Redis();
        if (!$r->connect('127.0.0.1', 6379, 2.0)) {
            throw new RuntimeException('cannot connect to Redis on 127.0.0.1:6379');
        }

        return $r;
    }

    public function destroy(): void
    {
        if (extension_loaded('redis')) {
            try {
                $r = $this->redis();
                $it = null;
                while (($keys = $r->scan($it, $this->redisPrefix . '*', 1000)) !== false) {
                    if ($keys) {
                        $r->del($keys);
                    }
                }
            } catch (RedisException) {
                // Redis down: nothing of ours can be there.
            }
        }
        if ($this->backend === 'pgsql') {
            $pdo = $this->pdo();
            $tables = $pdo->query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE '{$this->prefix}%'")->fetchAll(PDO::FETCH_COLUMN);
            foreach ($tables as $table) {
                $pdo->exec("DROP TABLE IF EXISTS \"{$table}\" CASCADE");
            }
        }
        must(['rm', '-rf', $this->dir]);
    }
}

function must(array $command): void
{
    $p = new Process($command);
    $p->run();
    if (!$p->isSuccessful()) {
        throw new RuntimeException(implode(' ', $command) . ': ' . $p->getErrorOutput());
    }
}

function rate(string $output, string $verb, int $n): float
{
    if (!preg_match("/{$verb} (\\d+) in ([\\d.]+) s/", $output, $m) || (int) $m[1] !== $n) {
        throw new RuntimeException("unexpected output: {$output}");
    }

    return $n / (float) $m[2];
}

function median(array $xs): float
{
    sort($xs);
    $c = count($xs);

    return $c % 2 ? $xs[intdiv($c, 2)] : ($xs[$c / 2 - 1] + $xs[$c / 2]) / 2;
}

/** One phase: fresh database, enqueue $n, work them with $workers processes. */
function phase(string $backend, string $system, int $workers, int $n): array
{
    $app = new BenchApp($backend);
    try {
        if ($system === 'laravel' || $system === 'redis') {
            $env = ['QUEUE_CONNECTION' => $system === 'laravel' ? 'database' : 'redis'];
            $enqueue = rate($app->artisan(['bench:dispatch', (string) $n], $env), 'dispatched', $n);
            $work = $app->workers($workers, ['queue:work', $env['QUEUE_CONNECTION'], '--queue=default', '--stop-when-empty', '--sleep=0', '--tries=1', '--quiet'], $n, $env);
            $left = $system === 'laravel' ? $app->count('jobs') : $app->redisLeft();
            $done = $n - $left;
            $work['left'] = $left;
        } elseif ($system === 'stask-driver') {
            $env = ['QUEUE_CONNECTION' => 'stask'];
            $enqueue = rate($app->artisan(['bench:dispatch', (string) $n], $env), 'dispatched', $n);
            $work = $app->workers($workers, ['bench:stask-work'], $n, $env);
            $done = $app->count('s_tasks', "status = 30 AND identifier = 'laravel_queue'");
            $work['left'] = $n - $done;
            $work['attempts_over_1'] = $app->count('s_tasks', 'attempts > 1');
        } else {
            $enqueue = rate($app->artisan(['bench:create', (string) $n]), 'created', $n);
            $work = $app->workers($workers, ['bench:stask-work'], $n);
            $done = $app->count('s_tasks', 'status = 30');
            $work['left'] = $n - $done;
            $work['attempts_over_1'] = $app->count('s_tasks', 'attempts > 1');
        }
        $work['n'] = $n;
        $work['enqueue_per_s'] = $enqueue;
        $work['done'] = $done;
        // Rates count what got done (a job left behind is reported, not counted).
        $work['loop_per_s'] = $work['window_s'] ? $done / $work['window_s'] : null;
        $work['wall_per_s'] = $done / $work['wall_s'];

        return $work;
    } finally {
        $app->destroy();
    }
}

$cores = (int) trim((string) shell_exec('nproc'));
$model = trim((string) shell_exec("lscpu | grep 'Model name' | sed 's/.*: *//'"));
printf("stask %s (release), PHP %s, Laravel %s, %d cores, %s\n", phpversion('stask'), PHP_VERSION, \Illuminate\Foundation\Application::VERSION, $cores, $model);
printf("runs %d; queued per phase: %s\n", $runs, json_encode($sizes));

/** Raw one-row transactions from PDO (autocommit UPDATE, then INSERT), to compare boxes with ../shared/PEERS.md. */
function calibrate(string $backend): array
{
    if ($backend === 'sqlite') {
        $file = sys_get_temp_dir() . '/stask-bench-raw-' . getmypid() . '.sqlite';
        $pdo = new PDO('sqlite:' . $file);
        $pdo->exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;');
    } else {
        $pdo = new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', '');
    }
    $table = 'stask_bench_raw_' . getmypid();
    $pdo->exec("CREATE TABLE {$table} (id INTEGER PRIMARY KEY, v INTEGER)");
    $pdo->exec("INSERT INTO {$table} VALUES (0, 0)");
    $n = $backend === 'sqlite' ? 20000 : 3000;
    $update = $pdo->prepare("UPDATE {$table} SET v = v + 1 WHERE id = 0");
    $t = microtime(true);
    for ($i = 0; $i < $n; $i++) {
        $update->execute();
    }
    $updates = $n / (microtime(true) - $t);
    $insert = $pdo->prepare("INSERT INTO {$table} VALUES (?, 0)");
    $t = microtime(true);
    for ($i = 1; $i <= $n; $i++) {
        $insert->execute([$i]);
    }
    $inserts = $n / (microtime(true) - $t);
    $pdo->exec("DROP TABLE {$table}");
    if (isset($file)) {
        $pdo = null;
        array_map('unlink', glob($file . '*'));
    }

    return ['update_tx_per_s' => $updates, 'insert_tx_per_s' => $inserts];
}

$raw = [];
foreach ($backends as $backend) {
    $raw[$backend] = calibrate($backend);
    printf("raw PDO %-6s  one-row UPDATE %6.0f tx/s  INSERT %6.0f tx/s\n", $backend, $raw[$backend]['update_tx_per_s'], $raw[$backend]['insert_tx_per_s']);
}

$results = [];
$bulk = [];
for ($run = 1; $run <= $runs; $run++) {
    foreach ($backends as $backend) {
        foreach ($systems as $system) {
            $n = $sizes[$system][$backend];
            foreach ($workerCounts as $workers) {
                $r = phase($backend, $system, $workers, $n);
                $results[$backend][$system][$workers][] = $r;
                printf(
                    "run %d %-6s %-12s %d proc: enqueue %8.0f/s  work %8s/s (loop) %8s/s (wall)  done %d/%d  errors %d%s\n",
                    $run, $backend, $system, $workers, $r['enqueue_per_s'],
                    $r['loop_per_s'] === null ? 'n/a' : sprintf('%.0f', $r['loop_per_s']),
                    $r['wall_per_s'] === null ? 'n/a' : sprintf('%.0f', $r['wall_per_s']),
                    $r['done'], $n, $r['errors'],
                    $r['stderr'] !== '' ? '  stderr: ' . strtok($r['stderr'], "\n") : ''
                );
            }
        }
        // Queue::bulk() on the redis and stask connections, once per run.
        foreach (array_intersect(['redis', 'stask-driver'], $systems) as $system) {
            if ($bulkN <= 0) {
                break;
            }
            $app = new BenchApp($backend);
            try {
                $conn = $system === 'redis' ? 'redis' : 'stask';
                $rate = rate($app->artisan(['bench:bulk', (string) $bulkN, '1000'], ['QUEUE_CONNECTION' => $conn]), 'bulked', $bulkN);
                $queued = $conn === 'redis' ? $app->redisLeft() : $app->count('s_tasks', "identifier = 'laravel_queue'");
                if ($queued !== $bulkN) {
                    throw new RuntimeException("Queue::bulk on {$conn}: {$queued} of {$bulkN} jobs queued");
                }
                $bulk[$backend][$system][] = $rate;
                printf("run %d %-6s %-12s Queue::bulk, calls of 1000: %8.0f jobs/s\n", $run, $backend, $system, $rate);
            } finally {
                $app->destroy();
            }
        }
    }
}

echo "\nMedians of {$runs} run(s):\n";
$summary = [];
foreach ($backends as $backend) {
    foreach ($systems as $system) {
        $enqueues = [];
        foreach ($workerCounts as $workers) {
            $rs = $results[$backend][$system][$workers];
            $loops = array_filter(array_column($rs, 'loop_per_s'), static fn ($v) => $v !== null);
            $walls = array_filter(array_column($rs, 'wall_per_s'), static fn ($v) => $v !== null);
            $summary[$backend][$system][$workers] = [
                'enqueue' => median(array_column($rs, 'enqueue_per_s')),
                'loop' => $loops ? median($loops) : null,
                'wall' => $walls ? median($walls) : null,
                'complete_runs' => count(array_filter($rs, static fn ($r) => $r['done'] === $r['n'])),
                'errors' => array_sum(array_column($rs, 'errors')),
            ];
            $enqueues = array_merge($enqueues, array_column($rs, 'enqueue_per_s'));
        }
        $summary[$backend][$system]['enqueue'] = median($enqueues);
        if (isset($bulk[$backend][$system])) {
            $summary[$backend][$system]['bulk'] = median($bulk[$backend][$system]);
        }
        printf("%s %-12s (%d queued per phase)  enqueue %8.0f/s", $backend, $system, $sizes[$system][$backend], $summary[$backend][$system]['enqueue']);
        foreach ($workerCounts as $w) {
            $x = $summary[$backend][$system][$w];
            printf("  %d proc: %s/s loop, %s/s wall (every job done in %d/%d runs)", $w,
                $x['loop'] === null ? 'n/a' : sprintf('%.0f', $x['loop']), $x['wall'] === null ? 'n/a' : sprintf('%.0f', $x['wall']),
                $x['complete_runs'], $runs);
        }
        if (isset($summary[$backend][$system]['bulk'])) {
            printf("  Queue::bulk %.0f/s", $summary[$backend][$system]['bulk']);
        }
        echo "\n";
    }
    // stask beside Laravel's database queue, as before.
    if (!isset($summary[$backend]['laravel'], $summary[$backend]['stask'])) {
        continue;
    }
    $l = $summary[$backend]['laravel'];
    $s = $summary[$backend]['stask'];
    printf("%s (queued per phase: Laravel %d, stask %d)\n", $backend, $sizes['laravel'][$backend], $sizes['stask'][$backend]);
    printf("  enqueue      Laravel %8.0f/s   stask %8.0f/s   ratio %5.1fx\n", $l['enqueue'], $s['enqueue'], $s['enqueue'] / $l['enqueue']);
    foreach ($workerCounts as $w) {
        foreach (['loop', 'wall'] as $k) {
            $lv = $l[$w][$k];
            $sv = $s[$w][$k];
            printf(
                "  work %d proc %-4s Laravel %8s/s   stask %8s/s   ratio %s  (runs with every job done: Laravel %d/%d, stask %d/%d)\n",
                $w, $k, $lv === null ? 'n/a' : sprintf('%.0f', $lv), $sv === null ? 'n/a' : sprintf('%.0f', $sv),
                ($lv && $sv) ? sprintf('%5.1fx', $sv / $lv) : '  n/a',
                $l[$w]['complete_runs'], $runs, $s[$w]['complete_runs'], $runs
            );
        }
    }
    $best = static fn (array $x) => max(array_filter(array_map(static fn ($w) => $x[$w]['loop'], $workerCounts)) ?: [0]);
    if ($best($l) > 0) {
        printf("  best of %s processes (loop)  Laravel %.0f/s  stask %.0f/s  ratio %.1fx\n", implode('/', $workerCounts), $best($l), $best($s), $best($s) / $best($l));
    }
}
if ($jsonOut) {
    file_put_contents($jsonOut, json_encode(['raw' => $raw, 'sizes' => $sizes, 'results' => $results, 'bulk' => $bulk, 'summary' => $summary], JSON_PRETTY_PRINT));
}
