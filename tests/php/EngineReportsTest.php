<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/** A worker whose actions show what the engine reports about them. */
final class ReportingWorker extends BaseWorker
{
    /** @var list<int> attempts seen, per run */
    public static array $attempts = [];

    public function identifier(): string
    {
        return 'reporting';
    }

    public function taskSteps(sTaskModel $task, array $options = []): void
    {
        for ($i = 1; $i <= 5; $i++) {
            $this->pushProgress($task, ['processed' => $i, 'total' => 5, 'message' => "step {$i}"]);
        }
    }

    public function taskBoom(sTaskModel $task, array $options = []): void
    {
        self::$attempts[] = $task->attempts;
        throw new \RuntimeException('supplier API down');
    }

    public function taskGiveUp(sTaskModel $task, array $options = []): void
    {
        self::$attempts[] = $task->attempts;
        throw new \Seiger\sTask\Exceptions\PermanentFailureException('the file is not a CSV');
    }
}

/** A worker that implements only the interface: the engine dispatches. */
final class PlainInterfaceWorker implements \Seiger\sTask\Contracts\TaskInterface
{
    public function identifier(): string
    {
        return 'plain_iface';
    }

    public function scope(): string
    {
        return 'tests';
    }

    public function icon(): string
    {
        return '';
    }

    public function title(): string
    {
        return 'Plain';
    }

    public function description(): string
    {
        return '';
    }

    public function renderWidget(): string
    {
        return '';
    }

    public function settings(): array
    {
        return [];
    }

    public function taskMake(sTaskModel $task, array $options = []): void
    {
    }
}

/**
 * What the engine tells about a task: its progress as the worker reported
 * it, failures that cannot succeed, and errors that name their cause.
 */
final class EngineReportsTest extends TestCase
{
    protected function setUp(): void
    {
        parent::setUp();
        ReportingWorker::$attempts = [];
    }

    protected function tearDown(): void
    {
        sTask::setLogger(null, 'warning');
        parent::tearDown();
    }

    /** Collects the engine's log records into $records. */
    private function collectLogs(array &$records, ?string $level = null): void
    {
        sTask::setLogger(function (string $level, string $message, array $context) use (&$records): void {
            $records[] = [$level, $message, $context];
        }, $level);
    }

    /**
     * Runs PHP code with the extension alone (no Carbon, no package) and
     * this test's connection; returns [exit code, stdout, stderr].
     */
    private function bareChild(string $code, array $ini = [], array $env = []): array
    {
        $lib = getenv('STASK_LIB') ?: dirname(__DIR__, 2) . '/target/debug/libstask.so';
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=' . $lib, '-d', 'display_errors=stderr'];
        foreach ($ini as $k => $v) {
            array_push($cmd, '-d', "{$k}={$v}");
        }
        $prelude = 'use Seiger\\sTask\\Facades\\sTask; sTask::configure(' . var_export($this->connection(), true) . ');';
        $cmd = array_merge($cmd, ['-r', $prelude . "\n" . $code]);
        return self::runCommand($cmd, $env);
    }

    // ------------------------------------------------------------ progress

    public function testFastProgressEndsWithTheLatestStateAndEveryLogLine(): void
    {
        $this->configure(['progress_interval' => 60]);
        $this->activeWorker(ReportingWorker::class);

        $task = sTask::create('reporting', 'steps');
        sTask::processPendingTasks();

        $snapshot = $this->snapshot($task->id);
        $this->assertSame('completed', $snapshot['status']);
        $this->assertSame([5, 5], [$snapshot['processed'], $snapshot['total']]);
        foreach (['step 1', 'step 2', 'step 3', 'step 4', 'step 5'] as $line) {
            $this->assertContains($line, $snapshot['log_lines']);
        }
        $progress = sTask::progress($task->id);
        $this->assertSame([5, 5], [$progress['processed'], $progress['total']]);

        // The row's mirror says the same (a host without the file reads it).
        unlink("{$this->staskStorage}/{$task->id}.json");
        $progress = sTask::progress($task->id);
        $this->assertSame([5, 5], [$progress['processed'], $progress['total']]);
        $this->assertSame('completed', $progress['status']);
        foreach (['step 1', 'step 5'] as $line) {
            $this->assertContains($line, $progress['log_lines']);
        }
    }

    // ------------------------------------------------------------ permanent failures

    public function testAMissingActionMethodFailsAtOnceNamingTheMethod(): void
    {
        $this->configure(['retry_base_delay' => 0]);
        $this->activeWorker(ReportingWorker::class);

        $task = sTask::create('reporting', 'nosuch');
        sTask::processPendingTasks();
        $task = $this->task($task->id);

        $this->assertSame('failed', $task->status_text, 'no retry: it can never succeed');
        $this->assertSame(1, $task->attempts);
        $this->assertStringContainsString('missing action method taskNosuch()', (string) $task->message);
        $this->assertStringContainsString('ActionNotFoundException', (string) $task->last_error);
        $this->assertInstanceOf(\BadMethodCallException::class, new \Seiger\sTask\Exceptions\ActionNotFoundException('x'));
    }

    public function testAMissingMethodOfAnInterfaceOnlyWorkerFailsAtOnce(): void
    {
        $this->configure(['retry_base_delay' => 0]);
        sTask::registerWorker(PlainInterfaceWorker::class);
        sTask::activateWorker('plain_iface');

        $ok = sTask::create('plain_iface', 'make');
        $missing = sTask::create('plain_iface', 'nosuch');
        sTask::processPendingTasks();

        $this->assertSame('completed', $this->task($ok->id)->status_text);
        $task = $this->task($missing->id);
        $this->assertSame('failed', $task->status_text);
        $this->assertSame(1, $task->attempts);
        $this->assertStringContainsString('missing action method taskNosuch()', (string) $task->message);
    }

    public function testAPermanentFailureExceptionFailsTheTaskWithoutRetries(): void
    {
        $this->configure(['retry_base_delay' => 0]);
        $this->activeWorker(ReportingWorker::class);

        $task = sTask::create('reporting', 'give_up');
        sTask::processPendingTasks();
        $this->drain(5);
        $task = $this->task($task->id);

        $this->assertSame('failed', $task->status_text);
        $this->assertSame([1], ReportingWorker::$attempts, 'tried once');
        $this->assertStringContainsString('the file is not a CSV', (string) $task->message);
        $this->assertStringContainsString('PermanentFailureException', (string) $task->last_error);
    }

    public function testAnOrdinaryExceptionIsStillRetried(): void
    {
        $this->configure(['retry_base_delay' => 0]);
        $this->activeWorker(ReportingWorker::class);

        $task = sTask::create('reporting', 'boom');
        sTask::processPendingTasks();

        $this->assertSame('pending', $this->task($task->id)->status_text);
    }

    // ------------------------------------------------------------ timestamps without Carbon

    public function testTimestampsPrintAsTextWithoutCarbon(): void
    {
        $lib = getenv('STASK_LIB') ?: dirname(__DIR__, 2) . '/target/debug/libstask.so';
        $code = 'use Seiger\sTask\Facades\sTask;'
            . ' sTask::configure(' . var_export($this->connection(), true) . ');'
            . ' $task = sTask::create("reporting", "steps");'
            . ' echo class_exists("Carbon\\Carbon") ? "carbon\n" : "no carbon\n";'
            . ' echo "Created: {$task->created_at}\n";'
            . ' echo get_class($task->created_at), "\n";'
            . ' echo $task->created_at instanceof DateTimeImmutable ? "immutable\n" : "other\n";'
            . ' echo get_class($task->created_at->modify("+1 day")), "\n";'
            . ' echo json_encode(["at" => (string) $task->fresh()->updated_at]), "\n";';
        $proc = proc_open(
            [PHP_BINARY, '-n', '-d', 'extension=' . $lib, '-d', 'display_errors=stderr', '-r', $code],
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes
        );
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $this->assertSame(0, proc_close($proc), $out . $err);

        $lines = explode("\n", trim($out));
        $this->assertSame('no carbon', $lines[0]);
        $this->assertMatchesRegularExpression('/^Created: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/', $lines[1]);
        $this->assertSame('Seiger\sTask\Support\Timestamp', $lines[2]);
        $this->assertSame('immutable', $lines[3]);
        $this->assertSame('Seiger\sTask\Support\Timestamp', $lines[4], 'DateTimeImmutable methods keep the class');
        $this->assertMatchesRegularExpression('/^\{"at":"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"\}$/', $lines[5]);
    }

    // ------------------------------------------------------------ errors that name their cause

    public function testARefusedConnectionNamesDriverHostPortAndReason(): void
    {
        foreach (['pgsql' => 'PostgreSQL', 'mysql' => 'MySQL'] as $driver => $name) {
            $started = microtime(true);
            try {
                sTask::configure(['driver' => $driver, 'host' => '127.0.0.1', 'port' => 1, 'database' => 'test',
                    'username' => 'root', 'storage_path' => $this->staskStorage]);
                sTask::create('reporting', 'steps');
                $this->fail("{$driver}: no exception");
            } catch (\Seiger\sTask\Exceptions\ConnectionException $e) {
                $this->assertSame("Cannot connect to the {$name} server at 127.0.0.1:1: connection refused", $e->getMessage());
                $this->assertInstanceOf(\Seiger\sTask\Exceptions\sTaskException::class, $e);
            }
            $this->assertLessThan(3.0, microtime(true) - $started, 'a refused connection fails at once');
        }
    }

    public function testAServerThatDoesNotAnswerTimesOutAfterConnectTimeout(): void
    {
        $silent = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($silent, false), ':'), 1);
        foreach (['pgsql' => 'PostgreSQL', 'mysql' => 'MySQL'] as $driver => $name) {
            $started = microtime(true);
            try {
                sTask::configure(['driver' => $driver, 'host' => '127.0.0.1', 'port' => $port, 'database' => 'test',
                    'username' => 'root', 'storage_path' => $this->staskStorage, 'connect_timeout' => 0.5]);
                sTask::create('reporting', 'steps');
                $this->fail("{$driver}: no exception");
            } catch (\Seiger\sTask\Exceptions\ConnectionException $e) {
                $this->assertSame(
                    "Cannot connect to the {$name} server at 127.0.0.1:{$port}: no answer within 0.5 s (connect_timeout)",
                    $e->getMessage()
                );
            }
            $elapsed = microtime(true) - $started;
            $this->assertGreaterThan(0.4, $elapsed);
            $this->assertLessThan(3.0, $elapsed);
        }
        fclose($silent);
    }

    public function testTablesNeverMigratedSayHowToMigrate(): void
    {
        $this->activeWorker(ReportingWorker::class);
        if (self::backend() === 'sqlite') {
            // The embedded database migrates itself on first use.
            sTask::configure($this->connection(['database' => $this->root . '/fresh.sqlite']));
            $this->assertSame('pending', sTask::create('reporting', 'steps')->status_text);

            return;
        }
        sTask::configure($this->connection(['prefix' => 'nomig' . bin2hex(random_bytes(3)) . '_']));
        foreach ([fn () => sTask::create('reporting', 'steps'), fn () => sTask::registerWorker(ReportingWorker::class)] as $call) {
            try {
                $call();
                $this->fail('no exception');
            } catch (\Seiger\sTask\Exceptions\SchemaMissingException $e) {
                $this->assertStringContainsString('run `php artisan migrate` (or `sTask::migrate()`)', $e->getMessage());
                $this->assertStringNotContainsString('Database error', $e->getMessage());
            }
        }
    }

    public function testAStorageFolderThatCannotBeCreatedNamesItsPath(): void
    {
        touch($this->root . '/a-file');
        try {
            sTask::configure(['driver' => 'sqlite', 'storage_path' => $this->root . '/a-file/stask']);
            sTask::create('reporting', 'steps');
            $this->fail('no exception');
        } catch (\Seiger\sTask\Exceptions\StorageException $e) {
            $this->assertStringContainsString($this->root . '/a-file/stask', $e->getMessage());
            $this->assertStringNotContainsString('Database', $e->getMessage());
            $this->assertNotInstanceOf(\Seiger\sTask\Exceptions\DatabaseException::class, $e);
        }
    }

    // ------------------------------------------------------------ logs

    public function testAFailingTaskProducesExactlyOneLogRecordNamingItsId(): void
    {
        $records = [];
        $this->collectLogs($records);
        $this->activeWorker(ReportingWorker::class);
        $ok = sTask::create('reporting', 'steps');
        $task = sTask::create('reporting', 'give_up');
        sTask::processPendingTasks();

        $this->assertCount(1, $records, json_encode($records));
        [$level, $message, $context] = $records[0];
        $this->assertSame('error', $level);
        $this->assertStringContainsString("task #{$task->id} (reporting/give_up)", $message);
        $this->assertStringContainsString('the file is not a CSV', $message);
        $this->assertSame($task->id, $context['task']);
        $this->assertSame('reporting', $context['worker']);
        $this->assertSame('give_up', $context['action']);
        $this->assertStringNotContainsString("#{$ok->id} ", $message);
    }

    public function testRetriesAreWarningsAndTheLevelFiltersThem(): void
    {
        $this->configure(['retry_base_delay' => 0]);
        $this->activeWorker(ReportingWorker::class);
        $records = [];
        $this->collectLogs($records);
        $task = sTask::create('reporting', 'boom');
        sTask::processPendingTasks();
        $this->assertCount(1, $records);
        $this->assertSame('warning', $records[0][0]);
        $this->assertStringContainsString("task #{$task->id} (reporting/boom) failed, attempt 1 of 3; retrying", $records[0][1]);

        $records = [];
        $this->collectLogs($records, 'error');
        $this->drain(50);
        $this->assertSame('failed', $this->task($task->id)->status_text);
        $this->assertCount(1, $records, 'the second retry (a warning) is below the level: ' . json_encode($records));
        $this->assertSame('error', $records[0][0]);
        $this->assertStringContainsString("task #{$task->id} (reporting/boom) failed after 3 attempt(s)", $records[0][1]);
    }

    public function testALoggerThatThrowsDoesNotBreakTheCaller(): void
    {
        $this->activeWorker(ReportingWorker::class);
        sTask::setLogger(function (): void {
            throw new \RuntimeException('logger down');
        });
        $task = sTask::create('reporting', 'give_up');
        $this->assertSame(1, sTask::processPendingTasks());
        $this->assertSame('failed', $this->task($task->id)->status_text);
    }

    public function testWithoutAHostLoggerRecordsGoToErrorLog(): void
    {
        $log = $this->root . '/php-errors.log';
        $code = 'sTask::migrate(); $t = sTask::create("nobody_home", "run"); sTask::processPendingTasks(); echo $t->id;';
        [$exit, $out, $err] = $this->bareChild($code, ['error_log' => $log]);
        $this->assertSame(0, $exit, $out . $err);
        $this->assertSame('', $err, 'nothing is printed');
        $id = (int) $out;
        $lines = array_values(array_filter(file($log, FILE_IGNORE_NEW_LINES), fn ($l) => str_contains($l, "task #{$id} ")));
        $this->assertCount(1, $lines, (string) file_get_contents($log));
        $this->assertStringContainsString("stask [error] task #{$id} (nobody_home/run) failed: no worker is registered", $lines[0]);

        // STASK_LOG=off: nothing.
        unlink($log);
        [$exit, $out, $err] = $this->bareChild($code, ['error_log' => $log], ['STASK_LOG' => 'off']);
        $this->assertSame(0, $exit, $out . $err);
        $this->assertFileDoesNotExist($log);
    }
}
