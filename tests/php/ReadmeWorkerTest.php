<?php

declare(strict_types=1);

namespace Stask\Tests;

/**
 * The README's "Write a worker" example is a complete file: run as written,
 * in a folder of its own, it must work a task and print what the README says.
 */
final class ReadmeWorkerTest extends TestCase
{
    public function testTheReadmesWorkerExampleRunsAsWritten(): void
    {
        $readme = (string) file_get_contents(dirname(__DIR__, 2) . '/README.md');
        $marker = strpos($readme, '<!-- tests/php/ReadmeWorkerTest.php runs the next block as it is -->');
        $this->assertNotFalse($marker, 'the README marks its worker example');
        $this->assertSame(1, preg_match('/```php\n(.*?)```/s', substr($readme, $marker), $m));
        $this->assertStringContainsString('prints' . "\n" . '`completed: Greeted 3 people (100 %)`', substr($readme, $marker - 400, 400));

        $dir = $this->root . '/readme';
        mkdir($dir . '/php', 0777, true);
        // The example sits beside the repository's php/ folder.
        file_put_contents($dir . '/php/autoload.php', "<?php require " . var_export(dirname(__DIR__, 2) . '/php/autoload.php', true) . ";\n");
        file_put_contents($dir . '/greet.php', $m[1]);
        $lib = getenv('STASK_LIB') ?: dirname(__DIR__, 2) . '/target/debug/libstask.so';
        $proc = proc_open([PHP_BINARY, '-n', '-d', 'extension=' . $lib, $dir . '/greet.php'], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $dir);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        $rc = proc_close($proc);
        $this->assertSame(0, $rc, $err);
        $this->assertSame("completed: Greeted 3 people (100 %)\n", $out, $err);
    }
}
