<?php

/**
 * PHP-level fuzzer of the stask extension: random and hostile values
 * (recursive, deep and huge arrays, NaN/INF, NUL bytes, invalid UTF-8,
 * objects whose __toString throws, resources, closures, generators) fed to
 * sTask::handleHttp(), sTask::create() and the other facade methods, the
 * models (sTaskModel, sWorker, the query builder) and sTask::configure().
 *
 * Each batch runs in a child PHP process that prints the case it is about
 * to run, so a crash (segfault, abort) or a hang is pinned to a seed and a
 * case. What counts as a finding:
 *   - crash or hang of the child;
 *   - a PHP method throwing anything but Seiger\sTask\Exceptions\* (a
 *     DatabaseException excepted: input must be refused before the
 *     database sees it), TypeError/ValueError/ArgumentCountError, or the
 *     fuzzer's own exception from a __toString;
 *   - handleHttp() returning a malformed response or a 5xx, or throwing
 *     anything but InvalidArgumentException.
 *
 *   php -d extension=target/debug/libstask.so tools/fuzz.php [--seconds=60] [--seed=1] [--batch=200] [--backend=sqlite|pgsql|mariadb]
 *   php -d extension=… tools/fuzz.php --seed=S --batch=N --only=K --verbose   # replays one case of a batch in this process
 *
 * Prints a summary (cases run, crashes, findings) and exits 1 when there is
 * a finding. `make fuzz-php` runs it for a while; tests/php/FuzzTest.php
 * runs fixed seeds for a few seconds.
 */

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Models\sWorker;

final class FuzzBoom extends \RuntimeException
{
}

final class Fuzz
{
    /** Routes of the API with their placeholders. */
    private const PATHS = [
        '/', '/stats', '/stats/timeline', '/health', '/metrics', '/clean', '/server-limits', '/tasks', '/task', '/task/store', '/tasks/retry', '/tasks/cancel',
        '/tasks/{id}', '/tasks/{id}/progress', '/tasks/{id}/download', '/tasks/{id}/cancel', '/tasks/{id}/retry',
        '/tasks/{id}/upload', '/workers', '/workers/discover', '/workers/rescan', '/workers/clean-orphans', '/worker/activate',
        '/workers/{w}', '/workers/{w}/activate', '/workers/{w}/deactivate', '/workers/{w}/settings', '/workers/{w}/schedule',
        '/workers/{w}/widget', '/workers/{w}/tasks/{a}', '/worker/{w}/run/{a}', '/workers/{w}/upload', '/workers/{w}/uploads',
        '/uploads/{u}/chunks/{i}', '/uploads/{u}/complete', '/performance/summary', '/performance/workers',
        '/performance/alerts', '/cache/stats', '/cache/clear',
    ];

    private const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'get', "GET\0", "G\r\nET", ''];

    private const STRINGS = [
        '', ' ', '0', '1', '-1', '1.5', '1e400', 'NaN', 'INF', 'null', 'true', '[]', '{}', "\0", "a\0b", "\xff", "\xc3\x28",
        "\xed\xa0\x80", "\xf0\x28\x8c\x28", "\r\n", "x\r\nSet-Cookie: a=1", '../../etc/passwd', '/etc/passwd', '%2e%2e/%2e%2e',
        "' OR 1=1 --", '"; DROP TABLE s_tasks; --', 'id; DROP TABLE s_tasks', '`id`', 'product', 'import', 'system',
        'cleanup', 'high', 'low', 'normal', 'pending', 'failed', '10', '40', 'shell.php', '.htaccess', 'a.csv', 'x.phar',
        '9223372036854775807', '9223372036854775808', '-9223372036854775808', '2025-01-01T00:00:00Z', '2025-13-45 25:61',
        '*:05', '24:00', 'monday', 'every_5min', "\u{202e}gnp.php", "\u{feff}", '😀', 'ÿ', 'ʼ OR 1=1', '%00', '%ff',
        'Bearer hostile-token-0123456789abcdef', 'Bearer ', 'sqlite:///tmp/x.sqlite', 'redis://x', ':memory:',
    ];

    private int $n = 0;

    public function __construct(private array $context)
    {
    }

    private function pick(array $a): mixed
    {
        return $a[mt_rand(0, count($a) - 1)];
    }

    private function chance(int $percent): bool
    {
        return mt_rand(1, 100) <= $percent;
    }

    public function string(): string
    {
        return match (mt_rand(0, 9)) {
            0 => str_repeat($this->pick(self::STRINGS) ?: 'a', mt_rand(1, 5000)),
            1 => random_bytes(mt_rand(1, 64)),
            2 => $this->pick(self::STRINGS) . $this->pick(self::STRINGS),
            3 => (string) mt_rand(PHP_INT_MIN, PHP_INT_MAX),
            4 => str_repeat('a', mt_rand(0, 1) ? 300 * 1024 : 70 * 1024),
            default => $this->pick(self::STRINGS),
        };
    }

    /** Any PHP value, hostile more often than not. */
    public function value(int $depth = 0): mixed
    {
        $kind = mt_rand(0, $depth > 3 ? 11 : 17);

        return match ($kind) {
            0 => null,
            1 => (bool) mt_rand(0, 1),
            2 => $this->pick([0, 1, -1, 3, 100, PHP_INT_MAX, PHP_INT_MIN, mt_rand(PHP_INT_MIN, PHP_INT_MAX)]),
            3 => $this->pick([NAN, INF, -INF, -0.0, 0.5, 1e308, -1e308, PHP_FLOAT_EPSILON, 2.5]),
            4, 5, 6, 7 => $this->string(),
            8 => STDIN,
            9 => fn () => 1,
            10 => new class () {
                public function __toString(): string
                {
                    throw new FuzzBoom('__toString throws');
                }
            },
            11 => $this->pick([new \stdClass(), new \ArrayObject([1, 2]), new \DateTimeImmutable('2025-01-01'), (function () {
                yield 1;
            })()]),
            12 => self::recursive(),
            13 => self::deep(mt_rand(0, 3) === 0 ? mt_rand(5000, 20000) : mt_rand(10, 200)),
            14 => array_fill(0, mt_rand(1000, 100000), 1),
            default => $this->array($depth + 1),
        };
    }

    public function array(int $depth = 0): array
    {
        $a = [];
        for ($i = 0, $n = mt_rand(0, 5); $i < $n; $i++) {
            $key = match (mt_rand(0, 5)) {
                0 => mt_rand(-5, 5),
                1 => $this->pick(["\xff", "\0", "a\0b", '', "\xc3\x28", PHP_INT_MAX]),
                default => $this->pick(self::STRINGS),
            };
            $a[$key] = $this->value($depth);
        }

        return $a;
    }

    public static function recursive(): array
    {
        $a = ['x' => 1, 'list' => [1, 2]];
        $a['list'][] = &$a;

        return $a;
    }

    public static function deep(int $depth): array
    {
        $a = [1];
        for ($i = 1; $i < $depth; $i++) {
            $a = ['k' => $a];
        }

        return $a;
    }

    private function path(): string
    {
        $path = $this->pick(self::PATHS);
        $sub = fn () => $this->chance(60)
            ? $this->pick(['1', '2', (string) ($this->context['task'] ?? 1), 'product', 'import', '0123456789abcdef0123456789abcdef', '0'])
            : rawurlencode($this->string());

        return (string) preg_replace_callback('/\{\w\}|\{id\}/', static fn () => $sub(), $path);
    }

    /**
     * A forged `tmp_name`: any value, but never an existing file of the
     * system. The extension must refuse them all; if it did not, it would
     * move the file into the uploads folder, so a real one is replaced by a
     * decoy of the fuzzer's own (outside the temp folder: it must be refused).
     */
    private function forgedTmpName(): mixed
    {
        $v = $this->value();
        try {
            $exists = is_string($v) && @file_exists($v);
        } catch (\ValueError) {
            $exists = false;
        }

        return $exists ? ($this->context['decoy'] ?? 'missing') : $v;
    }

    /** A request array for handleHttp(): plausible most of the time, broken sometimes. */
    public function request(): array
    {
        $r = [
            'method' => $this->chance(90) ? $this->pick(self::METHODS) : $this->value(),
            'path' => $this->chance(90) ? $this->path() : $this->value(),
        ];
        if ($this->chance(50)) {
            $r['body'] = $this->chance(70) ? (string) json_encode($this->array(), JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_INVALID_UTF8_IGNORE) : $this->value();
        }
        foreach (['query', 'form', 'headers'] as $key) {
            if ($this->chance(40)) {
                $r[$key] = $this->chance(85) ? $this->array() : $this->value();
            }
        }
        if ($this->chance(25)) {
            $tmp = tempnam($this->context['tmp'] ?? sys_get_temp_dir(), 'php');
            file_put_contents($tmp, $this->chance(50) ? "a,b\n1,2\n" : random_bytes(mt_rand(1, 2000)));
            $r['files'] = ['file' => [
                'name' => $this->chance(70) ? $this->pick(['a.csv', 'shell.php', '.htaccess', "a\r\n.csv", '../x.csv', 'x']) : $this->value(),
                'type' => 'text/csv',
                'tmp_name' => $this->chance(90) ? $tmp : $this->forgedTmpName(),
                'error' => $this->chance(90) ? 0 : $this->value(),
                'size' => $this->chance(90) ? filesize($tmp) : $this->value(),
            ]];
            if ($this->chance(10)) {
                $r['files'] = $this->value();
            }
        }
        $r['auth'] = match (mt_rand(0, 5)) {
            0 => ['mode' => 'bearer'],
            1 => $this->value(),
            2 => ['mode' => 'trusted', 'user_id' => $this->value()],
            default => ['mode' => 'trusted', 'user_id' => 1],
        };
        if ($this->chance(10)) {
            $r['base_url'] = $this->value();
        }
        if ($this->chance(5)) {
            $r[$this->string()] = $this->value();
        }

        return $r;
    }

    /** One case: a description and the call. */
    public function nextCase(): array
    {
        $task = $this->context['task'] ?? 1;
        $target = mt_rand(0, 99);
        if ($target < 45) {
            $request = $this->request();

            return ['handleHttp', fn () => sTask::handleHttp($request)];
        }
        // Every random choice is made here, before the call: a batch
        // replayed from case K (after a crash) must see the same cases.
        $args = fn (int $n) => array_map(fn () => $this->chance(30) ? $this->pick(['product', 'import', 'normal', 1, [], null]) : $this->value(), range(1, $n));
        $attributes = fn () => $this->chance(70)
            ? array_combine($k = array_map(fn () => $this->pick(['identifier', 'action', 'status', 'message', 'meta', 'result', 'priority', 'progress', 'attempts', 'max_attempts', 'start_at', 'started_by', 'title', 'description', 'settings', 'class', 'active', 'position', 'scope', 'hidden', 'nope']), range(0, mt_rand(0, 4))), array_map(fn () => $this->value(), $k))
            : $this->array();

        if ($target < 60) {
            $a = $args(mt_rand(0, 6));

            return ['sTask::create', fn () => sTask::create(...$a)];
        }
        if ($target < 66) {
            $a = $attributes();

            return ['sTaskModel::create', fn () => sTaskModel::create($a)];
        }
        if ($target < 72) {
            $a = $attributes();

            return ['sTaskModel->update', fn () => sTaskModel::find($task)?->update($a)];
        }
        if ($target < 76) {
            $a = $attributes();

            return ['sWorker->update', fn () => sWorker::query()->first()?->update($a)];
        }
        if ($target < 79) {
            $a = $this->array();

            return ['sWorker->updateSettings', fn () => sWorker::query()->first()?->updateSettings($a)];
        }
        if ($target < 86) {
            [$a, $b, $c] = $args(3);
            $which = mt_rand(0, 6);

            return ['query builder', function () use ($a, $b, $c, $which) {
                $q = sTaskModel::query();

                return match ($which) {
                    0 => $q->where($a, $b, $c)->count(),
                    1 => $q->where($a, $b)->get(),
                    2 => $q->orderBy((string) (is_scalar($a) ? $a : 'id'), (string) (is_scalar($b) ? $b : 'asc'))->limit(3)->get(),
                    3 => $q->whereIn(is_scalar($a) ? (string) $a : 'id', is_array($b) ? $b : [$b])->count(),
                    4 => $q->limit($a)->offset($b)->get(),
                    5 => sTaskModel::find($a),
                    default => sTaskModel::byIdentifier($a)->byAction($b)->count(),
                };
            }];
        }
        if ($target < 94) {
            [$a, $b] = $args(2);
            $which = mt_rand(0, 7);

            return ['facade', fn () => match ($which) {
                0 => sTask::progress($a),
                1 => sTask::cancel($a),
                2 => sTask::retry($a),
                3 => sTask::getWorker($a),
                4 => sTask::cleanOldTasks($a),
                5 => sTask::getWorkerStats($a, $b),
                6 => sTask::getPerformanceMetrics($a),
                default => sTask::registerWorker($a),
            }];
        }
        $keys = ['driver', 'url', 'host', 'port', 'database', 'username', 'password', 'prefix', 'storage_path', 'base_path',
            'retry_base_delay', 'progress_interval', 'lease_seconds', 'api_token', 'api_max_body', 'upload_max_size',
            'upload_chunk_size', 'upload_max_chunks', 'upload_stale_hours', 'upload_max_open', 'upload_allow_executable',
            'options', 'charset', 'nope'];
        $conf = [];
        foreach (range(0, mt_rand(0, 4)) as $_) {
            $conf[$this->pick($keys)] = $this->value();
        }

        return ['sTask::configure', function () use ($conf) {
            try {
                return sTask::configure($conf);
            } finally {
                // Whatever it did, the next case runs on the fuzzer's own database.
                sTask::configure($this->context['connection']);
            }
        }];
    }
}

/** A short, printable description of a value (for --verbose replays). */
function fuzz_describe(mixed $v, int $depth = 0): string
{
    if (is_array($v)) {
        if ($depth > 3) {
            return 'array(' . count($v) . ')[…]';
        }
        $parts = [];
        foreach (array_slice($v, 0, 8, true) as $k => $x) {
            $parts[] = json_encode($k, JSON_INVALID_UTF8_SUBSTITUTE) . ' => ' . fuzz_describe($x, $depth + 1);
        }

        return '[' . implode(', ', $parts) . (count($v) > 8 ? ', … (' . count($v) . ')' : '') . ']';
    }
    if (is_string($v)) {
        $shown = strlen($v) > 60 ? substr($v, 0, 60) . '…(' . strlen($v) . ' bytes)' : $v;

        return mb_check_encoding($v, 'UTF-8') ? (string) json_encode($shown, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE) : 'bytes:' . bin2hex(substr($v, 0, 30));
    }
    if (is_object($v)) {
        return 'object(' . get_class($v) . ')';
    }

    return is_resource($v) ? 'resource' : var_export($v, true);
}

/** Whether a throwable is an acceptable answer to hostile input. */
function fuzz_acceptable(\Throwable $e, string $target): bool
{
    if ($e instanceof FuzzBoom) {
        return true;
    }
    if ($target === 'handleHttp') {
        return $e instanceof \Seiger\sTask\Exceptions\InvalidArgumentException;
    }
    if ($e instanceof \Seiger\sTask\Exceptions\DatabaseException) {
        return false;
    }

    return $e instanceof \Seiger\sTask\Exceptions\sTaskException
        || $e instanceof \TypeError || $e instanceof \ValueError || $e instanceof \ArgumentCountError;
}

/** Why a handleHttp() answer is wrong, or null. */
function fuzz_bad_response(mixed $r): ?string
{
    if (!is_array($r) || !is_int($r['status'] ?? null) || !is_array($r['headers'] ?? null)
        || !(is_string($r['body'] ?? null) || is_string($r['file'] ?? null))) {
        return 'malformed response: ' . substr((string) json_encode($r, JSON_PARTIAL_OUTPUT_ON_ERROR), 0, 200);
    }
    if ($r['status'] < 200 || $r['status'] > 599) {
        return "status {$r['status']}";
    }
    // 503 is the database being away (or bearer mode without a token): not the input's doing.
    if ($r['status'] >= 500 && $r['status'] !== 503) {
        return "status {$r['status']}: " . substr((string) ($r['body'] ?? ''), 0, 200);
    }

    return null;
}

function fuzz_child(array $context, int $seed, int $cases, ?int $only, bool $verbose, int $from = 0): void
{
    require_once __DIR__ . '/../php/autoload.php';
    require_once __DIR__ . '/../examples/autoload.php';
    sTask::configure($context['connection']);
    ini_set('memory_limit', '1G');
    mt_srand($seed);
    $fuzz = new Fuzz($context);
    $findings = [];
    for ($k = 0; $k < $cases; $k++) {
        [$target, $call] = $fuzz->nextCase();
        if (($only !== null && $k !== $only) || $k < $from) {
            continue;
        }
        if ($verbose) {
            $static = (new \ReflectionFunction($call))->getStaticVariables();
            echo '  ', fuzz_describe(array_diff_key($static, ['this' => 1])), "\n";
        }
        echo "case {$k} {$target}\n";
        flush();
        $problem = null;
        try {
            $result = $call();
            if ($target === 'handleHttp') {
                $problem = fuzz_bad_response($result);
            }
        } catch (\Throwable $e) {
            if (!fuzz_acceptable($e, $target)) {
                $problem = get_class($e) . ': ' . substr($e->getMessage(), 0, 300);
            } elseif ($verbose) {
                echo '  ' . get_class($e) . ': ' . substr($e->getMessage(), 0, 300) . "\n";
            }
        }
        if ($problem !== null) {
            $findings[] = ['seed' => $seed, 'case' => $k, 'target' => $target, 'problem' => mb_scrub($problem, 'UTF-8')];
        }
        unset($call, $result);
    }
    echo 'done ' . json_encode(['findings' => $findings], JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR) . "\n";
}

/** Runs one batch in a child; [cases run, crash or null, findings]. */
function fuzz_batch(array $ext, string $contextFile, int $seed, int $cases, int $timeout, int $from = 0): array
{
    $cmd = array_merge([PHP_BINARY], $ext, [__FILE__, '--child', "--context={$contextFile}", "--seed={$seed}", "--batch={$cases}", "--from={$from}"]);
    $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    stream_set_blocking($pipes[1], false);
    stream_set_blocking($pipes[2], false);
    $out = $err = '';
    $deadline = microtime(true) + $timeout;
    $hung = false;
    do {
        $read = [$pipes[1], $pipes[2]];
        $w = $x = null;
        @stream_select($read, $w, $x, 0, 100_000);
        $out .= (string) stream_get_contents($pipes[1]);
        $err .= (string) stream_get_contents($pipes[2]);
        $status = proc_get_status($proc);
        if ($status['running'] && microtime(true) > $deadline) {
            proc_terminate($proc, SIGKILL);
            $hung = true;
        }
    } while ($status['running']);
    $out .= (string) stream_get_contents($pipes[1]);
    $err .= (string) stream_get_contents($pipes[2]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    proc_close($proc);

    preg_match_all('/^case (\d+) (.+)$/m', $out, $m);
    $last = $m[1] === [] ? -1 : (int) end($m[1]);
    $target = $m[2] === [] ? '?' : end($m[2]);
    if (preg_match('/^done (.*)$/m', $out, $d)) {
        $summary = json_decode($d[1], true) ?: ['findings' => []];

        return [$cases - $from, null, $summary['findings'], $cases];
    }
    $why = $hung ? "hang (over {$timeout} s)" : ($status['signaled'] ? 'killed by signal ' . $status['termsig'] : 'exit code ' . $status['exitcode']);
    $tail = trim(substr(trim($err), -400));

    // Findings of the cases before the crash are lost with the child; the
    // crash is what matters, and the batch goes on after it.
    return [max(0, $last + 1 - $from), ['seed' => $seed, 'case' => $last, 'target' => $target, 'problem' => "{$why}; {$tail}"], [], $last + 1];
}

/** The -d extension=… this process runs with (for the children). */
function fuzz_extension_args(): array
{
    $args = explode("\0", (string) @file_get_contents('/proc/self/cmdline'));
    foreach ($args as $i => $arg) {
        if (str_starts_with($arg, 'extension=') && ($args[$i - 1] ?? '') === '-d') {
            return ['-d', $arg];
        }
        if (str_starts_with($arg, '-dextension=')) {
            return [$arg];
        }
    }

    return [];
}

/** A connection of its own: a temp SQLite file, or a fresh table prefix on a server. */
function fuzz_connection(string $backend, string $dir): array
{
    $base = ['storage_path' => $dir . '/storage', 'base_path' => $dir];
    @mkdir($dir . '/storage', 0775, true);

    return match ($backend) {
        'sqlite' => ['driver' => 'sqlite', 'database' => $dir . '/fuzz.sqlite'] + $base,
        'pgsql' => ['driver' => 'pgsql', 'host' => '127.0.0.1', 'port' => 5432, 'database' => 'test', 'username' => 'postgres', 'password' => '', 'prefix' => 'fz' . bin2hex(random_bytes(3)) . '_'] + $base,
        'mariadb' => ['driver' => 'mysql', 'host' => '127.0.0.1', 'port' => 3306, 'database' => 'test', 'username' => 'root', 'password' => '', 'prefix' => 'fz' . bin2hex(random_bytes(3)) . '_'] + $base,
        default => throw new \InvalidArgumentException('--backend must be sqlite, pgsql or mariadb'),
    };
}

function fuzz_drop(array $connection): void
{
    if (!isset($connection['prefix'])) {
        return;
    }
    [$dsn, $user] = $connection['driver'] === 'pgsql'
        ? ['pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres']
        : ['mysql:host=127.0.0.1;port=3306;dbname=test', 'root'];
    $pdo = new \PDO($dsn, $user, '');
    foreach (['s_tasks', 's_workers', 's_task_leaders', 's_task_schedules', 's_task_processes', 's_task_attempts'] as $table) {
        $pdo->exec("DROP TABLE IF EXISTS {$connection['prefix']}{$table}");
    }
}

function fuzz_remove_tree(string $dir): void
{
    if (!is_dir($dir)) {
        return;
    }
    $items = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($dir, \FilesystemIterator::SKIP_DOTS), \RecursiveIteratorIterator::CHILD_FIRST);
    foreach ($items as $item) {
        $item->isDir() && !$item->isLink() ? rmdir($item->getPathname()) : unlink($item->getPathname());
    }
    rmdir($dir);
}

// ---------------------------------------------------------------------------

$opts = getopt('', ['child', 'context:', 'seed:', 'batch:', 'seconds:', 'only:', 'verbose', 'backend:', 'json', 'from:']);
$seed = (int) ($opts['seed'] ?? random_int(1, 1_000_000));
$batch = max(1, (int) ($opts['batch'] ?? 200));

if (isset($opts['child'])) {
    fuzz_child(json_decode((string) file_get_contents($opts['context']), true), $seed, $batch, null, false, (int) ($opts['from'] ?? 0));
    exit(0);
}
if (!extension_loaded('stask')) {
    fwrite(STDERR, "fuzz.php: load the extension: php -d extension=target/debug/libstask.so tools/fuzz.php\n");
    exit(2);
}

$dir = sys_get_temp_dir() . '/stask-fuzz-' . getmypid() . '-' . bin2hex(random_bytes(3));
$connection = fuzz_connection((string) ($opts['backend'] ?? getenv('STASK_TEST_BACKEND') ?: 'sqlite'), $dir);
require_once __DIR__ . '/../php/autoload.php';
require_once __DIR__ . '/../examples/autoload.php';
sTask::configure($connection);
sTask::migrate();
sTask::registerWorker(\Examples\Workers\ProductWorker::class);
sTask::activateWorker('product');
@mkdir($dir . '/tmp', 0775, true);
// A file outside every temp folder that forged uploads name (see forgedTmpName()).
$decoy = __DIR__ . '/../target/fuzz-decoy-' . getmypid() . '.csv';
file_put_contents($decoy, "decoy\n");
$context = ['connection' => $connection, 'task' => sTask::create('product', 'import', ['rows' => 1])->id, 'tmp' => $dir . '/tmp', 'decoy' => realpath($decoy)];
$contextFile = $dir . '/context.json';
file_put_contents($contextFile, json_encode($context));

if (isset($opts['only'])) {
    fuzz_child($context, $seed, $batch, (int) $opts['only'], isset($opts['verbose']));
    fuzz_drop($connection);
    fuzz_remove_tree($dir);
    @unlink($decoy);
    exit(0);
}

$seconds = (float) ($opts['seconds'] ?? 10);
$start = microtime(true);
$ext = fuzz_extension_args();
$cases = 0;
$batches = 0;
$crashes = [];
$findings = [];
for ($s = $seed; microtime(true) - $start < $seconds; $s++) {
    // A crash costs its case; the rest of the batch runs in a new child.
    for ($from = 0; $from < $batch && microtime(true) - $start < $seconds;) {
        [$ran, $crash, $found, $next] = fuzz_batch($ext, $contextFile, $s, $batch, 120, $from);
        $cases += $ran;
        if ($crash !== null) {
            $crashes[] = $crash;
        }
        array_push($findings, ...$found);
        $from = max($next, $from + 1);
    }
    $batches++;
}
fuzz_drop($connection);
fuzz_remove_tree($dir);
if (!is_file($decoy)) {
    // Moved away by an upload: a forged tmp_name was accepted.
    $crashes[] = ['seed' => $seed, 'case' => -1, 'target' => 'handleHttp', 'problem' => 'a forged files[tmp_name] outside the temp folder was accepted (the decoy file was moved)'];
}
@unlink($decoy);

$summary = [
    'seeds' => [$seed, $seed + $batches - 1], 'batch' => $batch, 'batches' => $batches, 'cases' => $cases,
    'seconds' => round(microtime(true) - $start, 1), 'crashes' => $crashes, 'findings' => $findings,
];
if (isset($opts['json'])) {
    echo json_encode($summary, JSON_INVALID_UTF8_SUBSTITUTE | JSON_UNESCAPED_SLASHES), "\n";
} else {
    printf("fuzz: %d cases in %d batches (seeds %d..%d, %d per batch), %.1f s: %d crashes, %d findings\n",
        $cases, $batches, $seed, $seed + $batches - 1, $batch, $summary['seconds'], count($crashes), count($findings));
    foreach (array_merge($crashes, $findings) as $f) {
        printf("  seed %d case %d %s: %s\n    replay: php -d extension=… tools/fuzz.php --seed=%d --batch=%d --only=%d --verbose\n",
            $f['seed'], $f['case'], $f['target'], str_replace("\n", ' ', $f['problem']), $f['seed'], $batch, $f['case']);
    }
}
exit($crashes === [] && $findings === [] ? 0 : 1);
