<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Exceptions\WorkerStartupException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

require_once __DIR__ . '/fixtures/IniWorker.php';

/**
 * The child processes of sTask::work(['concurrency' => N]) run with the
 * supervisor's PHP: its binary, its ini (-n, -c, -d, PHP_INI_SCAN_DIR) and
 * the extension it loaded; and a supervisor whose children cannot start
 * stops and says why instead of replacing them forever. Each test starts a
 * real supervising PHP process (fixtures/supervisor.php) with the options
 * under test.
 */
final class WorkerChildrenTest extends TestCase
{
    private const SCRIPT = __DIR__ . '/fixtures/supervisor.php';

    private string $records;

    protected function setUp(): void
    {
        parent::setUp();
        $this->records = $this->root . '/records.jsonl';
        $this->activeWorker(\Stask\Tests\Fixtures\IniWorker::class);
    }

    /** @return array<string, array{0: callable(string, string): array{0: list<string>, 1: array<string, string>}, 1: bool, 2: string, 3: string}> */
    public static function parents(): array
    {
        // [how the supervisor is started (its PHP options, its environment),
        //  whether it passes a command as the artisan commands do, the
        //  memory_limit and precision its children must see]
        return [
            '-n -d extension -d settings, command [PHP_BINARY, script]' => [
                fn (string $lib, string $dir) => [['-n', '-d', "extension={$lib}", '-d', 'memory_limit=77M', '-d', 'precision=11'], []],
                true, '77M', '11',
            ],
            '-n -d extension -d settings, no command' => [
                fn (string $lib, string $dir) => [['-n', '-d', "extension={$lib}", '-d', 'memory_limit=77M', '-d', 'precision=11'], []],
                false, '77M', '11',
            ],
            '-c ini file that loads the extension, command [PHP_BINARY, script]' => [
                function (string $lib, string $dir) {
                    file_put_contents("{$dir}/php.ini", "extension={$lib}\nmemory_limit=66M\nprecision=9\n");
                    return [['-c', "{$dir}/php.ini"], ['PHP_INI_SCAN_DIR' => '']];
                },
                true, '66M', '9',
            ],
            'PHP_INI_SCAN_DIR that loads the extension, command [PHP_BINARY, script]' => [
                function (string $lib, string $dir) {
                    mkdir("{$dir}/conf.d");
                    file_put_contents("{$dir}/conf.d/stask.ini", "extension={$lib}\nmemory_limit=55M\nprecision=8\n");
                    return [[], ['PHP_INI_SCAN_DIR' => "{$dir}/conf.d"]];
                },
                true, '55M', '8',
            ],
        ];
    }

    /** @dataProvider parents */
    public function testChildrenRunWithTheSupervisorsPhpIniAndExtension(callable $start, bool $command, string $memory, string $precision): void
    {
        [$phpOptions, $env] = $start($this->extensionPath(), $this->root);
        $ids = [];
        for ($i = 0; $i < 8; $i++) {
            $ids[] = sTask::create('ini', 'record', ['file' => $this->records])->id;
        }
        $options = ['concurrency' => 2, 'stop_when_empty' => true, 'max_seconds' => 60];
        if ($command) {
            $options['command'] = [PHP_BINARY, self::SCRIPT];
        }

        [$result, $output] = $this->supervise($phpOptions, $options, $env);

        $this->assertArrayHasKey('report', $result, "sTask::work() failed:\n" . json_encode($result) . "\n{$output}");
        $this->assertStringNotContainsString('already loaded', $output, 'the extension is not loaded twice');
        $this->assertStringNotContainsString('Unable to load', $output);
        $parent = $result['parent'];
        $this->assertSame($memory, $parent['memory_limit'], 'the supervisor runs with the settings under test');
        $this->assertSame($precision, $parent['precision']);
        foreach ($ids as $id) {
            $this->assertSame('completed', sTaskModel::find($id)->status_text, "task #{$id}; output:\n{$output}");
        }
        $records = array_map(fn ($l) => json_decode($l, true, 512, JSON_THROW_ON_ERROR), file($this->records, FILE_IGNORE_NEW_LINES));
        $this->assertCount(8, $records, 'each task ran once');
        foreach ($records as $seen) {
            $this->assertTrue($seen['child'], 'tasks ran in child processes');
            $this->assertNotSame($parent['pid'], $seen['pid']);
            $this->assertSame($parent['binary'], $seen['binary'], 'the same PHP binary');
            $this->assertSame($memory, $seen['memory_limit'], 'the same -d / ini settings');
            $this->assertSame($precision, $seen['precision']);
            $this->assertSame($parent['ini_file'], $seen['ini_file'], 'the same php.ini');
        }
    }

    /** @return array<string, array{0: list<string>, 1: list<string>}> */
    public static function childrenThatCannotStart(): array
    {
        return [
            'the extension cannot be loaded' => [
                [PHP_BINARY, '-n', '-d', 'extension=/nonexistent/libstask.so', self::SCRIPT],
                ["Unable to load dynamic library '/nonexistent/libstask.so'", 'exit code 255'],
            ],
            'the script fails before its worker loop' => [
                [PHP_BINARY, '-r', 'fwrite(STDERR, "cannot boot: config/stask.php is missing\n"); exit(4);'],
                ['cannot boot: config/stask.php is missing', 'exit code 4'],
            ],
        ];
    }

    /** @dataProvider childrenThatCannotStart */
    public function testASupervisorWhoseChildrenDieAtStartUpStopsAndSaysWhy(array $command, array $because): void
    {
        $task = sTask::create('ini', 'record', ['file' => $this->records]);
        $options = ['concurrency' => 2, 'max_seconds' => 120, 'command' => $command];

        [$result, $output] = $this->supervise(['-n', '-d', 'extension=' . $this->extensionPath()], $options, []);

        $this->assertArrayHasKey('exception', $result, "sTask::work() returned instead of failing:\n" . json_encode($result) . "\n{$output}");
        $this->assertSame(WorkerStartupException::class, $result['exception']);
        $this->assertTrue(is_subclass_of(WorkerStartupException::class, sTaskException::class));
        $this->assertStringContainsString('start-up', $result['message']);
        $this->assertStringContainsString('5 in a row', $result['message']);
        foreach ($because as $text) {
            $this->assertStringContainsString($text, $result['message'], 'the message names the cause');
        }
        $this->assertLessThan(30, $result['seconds'], 'it gave up within seconds, not at max_seconds');
        $this->assertSame('pending', $task->fresh()->status_text, 'nothing was claimed');
        $this->assertSame(0, $task->fresh()->attempts);
    }

    private function extensionPath(): string
    {
        $path = getenv('STASK_LIB') ?: dirname(__DIR__, 2) . '/target/debug/libstask.so';
        $this->assertFileExists($path);

        return (string) realpath($path);
    }

    /**
     * Runs fixtures/supervisor.php as `php <options> supervisor.php` and
     * returns its result and everything it (and its children) printed.
     *
     * @return array{0: array, 1: string}
     */
    private function supervise(array $phpOptions, array $work, array $env): array
    {
        $result = $this->root . '/result.json';
        $env = $env + [
            'STASK_TEST_CONNECTION' => json_encode($this->connection()),
            'STASK_TEST_SUPERVISE' => json_encode($work),
            'STASK_TEST_RESULT' => $result,
        ];
        $argv = array_merge([PHP_BINARY], $phpOptions, [self::SCRIPT]);
        $process = proc_open($argv, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->root . '/output.txt', 'w'], 2 => ['redirect', 1]], $pipes, null, $env + getenv());
        $this->assertIsResource($process);
        $until = microtime(true) + 150;
        while (($status = proc_get_status($process))['running']) {
            if (microtime(true) > $until) {
                proc_terminate($process, SIGKILL);
                $this->fail('the supervisor did not stop within 150 s: ' . file_get_contents($this->root . '/output.txt'));
            }
            usleep(50_000);
        }
        proc_close($process);
        $output = (string) file_get_contents($this->root . '/output.txt');
        $this->assertFileExists($result, "the supervisor ended without a result (exit {$status['exitcode']}):\n{$output}");

        return [json_decode((string) file_get_contents($result), true, 512, JSON_THROW_ON_ERROR), $output];
    }
}
