<?php

namespace Tests;

use PHPUnit\Framework\TestCase;
use Symfony\Component\Process\Process;

/**
 * Each test gets a fresh copy of the harness app in a temp folder and its own
 * database: an SQLite file in the copy, or, for DB_CONNECTION=mysql|pgsql,
 * a per-test DB_PREFIX in database `test` (tables dropped afterwards).
 * Everything runs through real `php artisan ...` processes; the extension
 * reaches them (and their children) through PHP_INI_SCAN_DIR (see run.sh).
 */
abstract class HarnessTestCase extends TestCase
{
    protected const APP = __DIR__ . '/..';

    /** Root of the per-test copy. */
    protected string $dir;

    protected string $connection;

    protected string $prefix;

    /** Asynchronous processes started by the test, stopped in tearDown. */
    private array $running = [];

    protected function setUp(): void
    {
        parent::setUp();
        $this->connection = getenv('DB_CONNECTION') ?: 'sqlite';
        // SQLite: a database file per test, Evolution's usual prefix, or the
        // empty prefix of a site installed without one (HARNESS_PREFIX=).
        // Server backends: a prefix per test keeps tests apart.
        $this->prefix = $this->connection === 'sqlite'
            ? (getenv('HARNESS_PREFIX') !== false ? (string) getenv('HARNESS_PREFIX') : 'evo_')
            : 't' . substr(bin2hex(random_bytes(4)), 0, 6) . '_';
        $this->dir = $this->copyApp();
    }

    protected function tearDown(): void
    {
        foreach ($this->running as $process) {
            if ($process->isRunning()) {
                $process->stop(3, SIGTERM);
            }
        }
        $this->stopProcessesIn($this->dir);
        if ($this->connection !== 'sqlite') {
            $this->dropPrefixedTables();
        }
        if (getenv('HARNESS_KEEP') !== '1') {
            (new Process(['rm', '-rf', $this->dir]))->run();
        }
        parent::tearDown();
    }

    private function copyApp(): string
    {
        $dir = sys_get_temp_dir() . '/stask-laravel-' . bin2hex(random_bytes(5));
        mkdir($dir, 0755, true);
        foreach (['app', 'bootstrap', 'database', 'evo', 'public', 'resources', 'routes', 'shims'] as $folder) {
            $this->mustRun(['cp', '-R', self::APP . '/' . $folder, $dir . '/' . $folder]);
        }
        mkdir($dir . '/config');
        foreach (glob(self::APP . '/config/*.php') as $file) {
            copy($file, $dir . '/config/' . basename($file));
        }
        copy(self::APP . '/artisan', $dir . '/artisan');
        // Only the source of the app: no state from an in-place run.
        $this->mustRun(['rm', '-rf', $dir . '/public/assets', $dir . '/bootstrap/cache', $dir . '/evo/assets']);
        foreach (glob($dir . '/evo/core/storage/*') ?: [] as $state) {
            $this->mustRun(['rm', '-rf', $state]);
        }
        foreach (glob($dir . '/database/*.sqlite') as $file) {
            unlink($file);
        }
        $this->mustRun(['sh', self::APP . '/setup.sh', $dir]);
        if ($this->connection === 'sqlite') {
            touch($dir . '/database/database.sqlite');
        }

        return $dir;
    }

    private function mustRun(array $command): void
    {
        $process = new Process($command);
        $process->run();
        if (!$process->isSuccessful()) {
            throw new \RuntimeException(implode(' ', $command) . ': ' . $process->getErrorOutput());
        }
    }

    /** Environment of every artisan process of this test. */
    protected function env(array $extra = []): array
    {
        $env = [
            'STASK_PHP_DIR' => realpath(self::APP . '/../../php'),
            'DB_CONNECTION' => $this->connection,
            'DB_PREFIX' => $this->prefix,
            'APP_ENV' => 'testing',
            'LOG_CHANNEL' => 'single',
        ];
        if ($this->connection === 'sqlite') {
            $env['DB_DATABASE'] = $this->dir . '/database/database.sqlite';
        }

        return array_merge($env, $extra);
    }

    protected function process(array $args, array $env = [], float $timeout = 60): Process
    {
        $process = new Process(array_merge([PHP_BINARY, 'artisan'], $args), $this->dir, $this->env($env), null, $timeout);

        return $process;
    }

    /**
     * Runs `php artisan $args` of the Evolution 3.1-like core (evo/core, see
     * evo/core/bootstrap.php) to the end, in its folder as cron does
     * (`cd core && php artisan schedule:run`).
     */
    protected function core(array $args, array $env = [], float $timeout = 60): Process
    {
        $process = $this->coreProcess($args, $env, $timeout);
        $process->run();

        return $process;
    }

    protected function coreProcess(array $args, array $env = [], float $timeout = 60, array $php = []): Process
    {
        return new Process(array_merge([PHP_BINARY], $php, ['artisan'], $args), $this->dir . '/evo/core', $this->env($env), null, $timeout);
    }

    /** Runs the core's artisan and fails the test unless it exits 0. */
    protected function coreOk(array $args, array $env = [], float $timeout = 60): string
    {
        $process = $this->core($args, $env, $timeout);
        $this->assertSame(0, $process->getExitCode(), $this->describe($process));

        return $process->getOutput();
    }

    /** Runs `php artisan $args` to the end. */
    protected function artisan(array $args, array $env = [], float $timeout = 60): Process
    {
        $process = $this->process($args, $env, $timeout);
        $process->run();

        return $process;
    }

    /** Runs `php artisan $args` and fails the test unless it exits 0. */
    protected function artisanOk(array $args, array $env = [], float $timeout = 60): string
    {
        $process = $this->artisan($args, $env, $timeout);
        $this->assertSame(0, $process->getExitCode(), $this->describe($process));

        return $process->getOutput();
    }

    protected function start(array $args, array $env = [], float $timeout = 60): Process
    {
        $process = $this->process($args, $env, $timeout);
        $process->start();
        $this->running[] = $process;

        return $process;
    }

    protected function describe(Process $process): string
    {
        return sprintf(
            "%s\nexit %s\n--- stdout\n%s\n--- stderr\n%s",
            $process->getCommandLine(),
            var_export($process->getExitCode(), true),
            $process->getOutput(),
            $process->getErrorOutput()
        );
    }

    protected function migrate(): void
    {
        $this->artisanOk(['migrate', '--force']);
    }

    protected function pdo(): \PDO
    {
        switch ($this->connection) {
            case 'sqlite':
                $pdo = new \PDO('sqlite:' . $this->dir . '/database/database.sqlite');
                break;
            case 'mysql':
                $pdo = new \PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', getenv('DB_PASSWORD') ?: '');
                break;
            case 'pgsql':
                $pdo = new \PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', getenv('DB_PASSWORD') ?: '');
                break;
            default:
                throw new \RuntimeException("unknown connection {$this->connection}");
        }
        $pdo->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);

        return $pdo;
    }

    /** Rows of a table of this test's prefix (name without prefix). */
    protected function rows(string $table, string $where = '1=1', array $params = []): array
    {
        $statement = $this->pdo()->prepare("SELECT * FROM {$this->prefix}{$table} WHERE {$where} ORDER BY id");
        $statement->execute($params);

        return $statement->fetchAll(\PDO::FETCH_ASSOC);
    }

    protected function tables(): array
    {
        $pdo = $this->pdo();
        switch ($this->connection) {
            case 'sqlite':
                // sqlite_sequence and the like are SQLite's own, whatever the prefix.
                $sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";
                break;
            case 'mysql':
                $sql = 'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()';
                break;
            default:
                $sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'";
        }

        return $pdo->query($sql)->fetchAll(\PDO::FETCH_COLUMN);
    }

    private function dropPrefixedTables(): void
    {
        try {
            $pdo = $this->pdo();
            foreach ($this->tables() as $table) {
                if (str_starts_with($table, $this->prefix)) {
                    $quoted = $this->connection === 'mysql' ? "`{$table}`" : "\"{$table}\"";
                    $pdo->exec("DROP TABLE IF EXISTS {$quoted}" . ($this->connection === 'pgsql' ? ' CASCADE' : ''));
                }
            }
        } catch (\Throwable $e) {
            // best effort
        }
    }

    /** Finished runs of DemoWorker (storage/demo-ledger.txt; the core's: evo/core/storage): [task id, pid, start, end] each. */
    protected function ledger(string $storage = 'storage'): array
    {
        return $this->lines($storage . '/demo-ledger.txt');
    }

    /** Started runs of DemoWorker (storage/demo-started.txt): [task id, pid] each. */
    protected function started(): array
    {
        return $this->lines('storage/demo-started.txt');
    }

    private function lines(string $path): array
    {
        $file = $this->dir . '/' . $path;
        if (!is_file($file)) {
            return [];
        }
        $lines = array_filter(explode("\n", file_get_contents($file)));

        return array_map(static fn ($l) => explode(' ', $l), array_values($lines));
    }

    /** The most runs of the ledger that overlapped in time. */
    protected function maxConcurrent(array $ledger): int
    {
        $events = [];
        foreach ($ledger as $run) {
            $events[] = [(float) $run[2], 1];
            $events[] = [(float) $run[3], -1];
        }
        // Ends before starts at the same instant: touching runs do not overlap.
        usort($events, static fn ($a, $b) => [$a[0], $a[1]] <=> [$b[0], $b[1]]);
        $now = 0;
        $max = 0;
        foreach ($events as [, $delta]) {
            $now += $delta;
            $max = max($max, $now);
        }

        return $max;
    }

    /** Waits until $check() is truthy; returns its last value. */
    protected function waitFor(callable $check, float $seconds)
    {
        $until = microtime(true) + $seconds;
        do {
            $value = $check();
            if ($value) {
                return $value;
            }
            usleep(100000);
        } while (microtime(true) < $until);

        return $value;
    }

    /**
     * Stops processes whose working folder is in this test's copy (what
     * schedule:run starts in the background, the core's in evo/core). Only
     * pids found that way.
     */
    protected function stopProcessesIn(string $dir): void
    {
        $real = realpath($dir);
        if ($real === false) {
            return;
        }
        $pids = [];
        foreach (glob('/proc/[0-9]*') as $proc) {
            $cwd = @readlink($proc . '/cwd');
            if (is_string($cwd) && ($cwd === $real || str_starts_with($cwd, $real . '/')) && (int) basename($proc) !== getmypid()) {
                $pids[] = (int) basename($proc);
            }
        }
        foreach ($pids as $pid) {
            @posix_kill($pid, SIGTERM);
        }
        $until = microtime(true) + 3;
        while ($pids !== [] && microtime(true) < $until) {
            $pids = array_filter($pids, static fn ($pid) => @posix_kill($pid, 0));
            usleep(100000);
        }
        foreach ($pids as $pid) {
            @posix_kill($pid, SIGKILL);
        }
    }
}
