<?php

declare(strict_types=1);

namespace Stask\Tests;

use Carbon\Carbon;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Models\sWorker;

/**
 * Gives every test its own SQLite database and storage folder under
 * sys_get_temp_dir(), migrated. The folder is removed when the test passes
 * and kept when it fails (sys_get_temp_dir()/stask-phpunit-<pid>-<random>),
 * so the database and the progress files can be inspected.
 */
abstract class TestCase extends \PHPUnit\Framework\TestCase
{
    /** The test's root folder: stask.sqlite, storage/, base/. */
    protected string $root;

    /** The CMS storage folder (storage_path()). */
    protected string $storage;

    /** sTask's own storage folder: storage/stask (progress snapshots). */
    protected string $staskStorage;

    protected string $database;

    /** Table prefix of this test on a server backend (isolation). */
    protected string $prefix = '';

    protected function setUp(): void
    {
        parent::setUp();
        $this->root = sys_get_temp_dir() . '/stask-phpunit-' . getmypid() . '-' . bin2hex(random_bytes(4));
        $this->storage = $this->root . '/storage';
        $this->staskStorage = $this->storage . '/stask';
        $this->database = $this->root . '/stask.sqlite';
        $this->prefix = self::backend() === 'sqlite' ? '' : 't' . bin2hex(random_bytes(4)) . '_';
        mkdir($this->staskStorage, 0775, true);

        Host::$storage = $this->storage;
        Host::$userId = 7;
        $this->configure();
        sTask::migrate();
    }

    protected function tearDown(): void
    {
        Carbon::setTestNow();
        if (!$this->hasFailed()) {
            self::removeTree($this->root);
            $this->dropServerTables();
        }
        parent::tearDown();
    }

    /** sqlite (default), pgsql or mariadb: STASK_TEST_BACKEND. */
    protected static function backend(): string
    {
        return getenv('STASK_TEST_BACKEND') ?: 'sqlite';
    }

    /** The connection array of this test's backend (as a CMS passes it). */
    protected function connection(array $extra = []): array
    {
        $base = ['storage_path' => $this->staskStorage, 'base_path' => $this->root, 'prefix' => $this->prefix];
        $db = match (self::backend()) {
            'sqlite' => ['driver' => 'sqlite', 'database' => $this->database],
            'pgsql' => ['driver' => 'pgsql', 'host' => '127.0.0.1', 'port' => 5432, 'database' => 'test', 'username' => 'postgres', 'password' => ''],
            'mariadb' => ['driver' => 'mysql', 'host' => '127.0.0.1', 'port' => 3306, 'database' => 'test', 'username' => 'root', 'password' => ''],
            default => throw new \RuntimeException('STASK_TEST_BACKEND must be sqlite, pgsql or mariadb'),
        };
        return $extra + $db + $base;
    }

    /** (Re)configures the extension for this test, with extra keys. */
    protected function configure(array $extra = []): void
    {
        sTask::configure($this->connection($extra));
    }

    private function dropServerTables(): void
    {
        $dsn = match (self::backend()) {
            'pgsql' => ['pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres'],
            'mariadb' => ['mysql:host=127.0.0.1;port=3306;dbname=test', 'root'],
            default => null,
        };
        if ($dsn === null) {
            return;
        }
        $pdo = new \PDO($dsn[0], $dsn[1], '');
        foreach (['s_tasks', 's_workers', 's_task_leaders', 's_task_schedules', 's_task_processes', 's_task_attempts'] as $table) {
            $pdo->exec("DROP TABLE IF EXISTS {$this->prefix}{$table}");
        }
    }

    /**
     * Points a worker row at a class that does not load, as a removed
     * package leaves it (the engine itself refuses to store such a class).
     */
    protected function orphanWorker(string $identifier, string $class): void
    {
        $pdo = \Stask\Tests\Support\RawRows::pdo(self::backend(), $this->database);
        \Stask\Tests\Support\RawRows::orphanWorker($pdo, $this->prefix, $identifier, $class);
        sTask::clearWorkerCache();
    }

    /** Runs $code and returns what it echoed. */
    protected function output(callable $code): string
    {
        ob_start();
        try {
            $code();
        } finally {
            $out = ob_get_clean();
        }

        return $out;
    }

    /** Registers a worker class and activates it. */
    protected function activeWorker(string $class): sWorker
    {
        $worker = sTask::registerWorker($class);
        $this->assertNotNull($worker, "registerWorker({$class}) returned null");
        $this->assertTrue(sTask::activateWorker($worker->identifier));

        return sTask::getWorker($worker->identifier);
    }

    protected function task(int $id): sTaskModel
    {
        $task = sTaskModel::find($id);
        $this->assertNotNull($task, "task #{$id} does not exist");

        return $task;
    }

    /** The progress snapshot storage/stask/{id}.json, decoded. */
    protected function snapshot(int $id): array
    {
        $file = "{$this->staskStorage}/{$id}.json";
        $this->assertFileExists($file);
        $data = json_decode((string) file_get_contents($file), true, 512, JSON_THROW_ON_ERROR);
        $this->assertIsArray($data);

        return $data;
    }

    /**
     * Processes pending tasks until none is due, at most $rounds times
     * (retries come back after their backoff, so callers that expect them
     * configure retry_base_delay 0).
     */
    protected function drain(int $rounds = 20): void
    {
        for ($i = 0; $i < $rounds; $i++) {
            if (sTask::processPendingTasks() === 0 && sTaskModel::incomplete()->count() === 0) {
                return;
            }
            usleep(20_000);
        }
    }

    /** A CSV fixture; returns its path. */
    protected function csv(string $path, array $rows): string
    {
        if (!is_dir(dirname($path))) {
            mkdir(dirname($path), 0775, true);
        }
        $out = fopen($path, 'wb');
        foreach ($rows as $row) {
            fputcsv($out, $row);
        }
        fclose($out);

        return $path;
    }

    protected static function removeTree(string $dir): void
    {
        if (!is_dir($dir)) {
            return;
        }
        $items = new \RecursiveIteratorIterator(
            new \RecursiveDirectoryIterator($dir, \FilesystemIterator::SKIP_DOTS),
            \RecursiveIteratorIterator::CHILD_FIRST
        );
        foreach ($items as $item) {
            $item->isDir() && !$item->isLink() ? rmdir($item->getPathname()) : unlink($item->getPathname());
        }
        rmdir($dir);
    }

    /**
     * Runs a command with stdin closed and returns [exit code, stdout, stderr];
     * $env is added to this process's environment.
     *
     * @return array{int, string, string}
     */
    protected static function runCommand(array $cmd, array $env = []): array
    {
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);

        return [proc_close($proc), $out, $err];
    }
}
