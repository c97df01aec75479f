<?php

declare(strict_types=1);

namespace Stask\Tests;

use Examples\Workers\ProductWorker;
use Seiger\sTask\Exceptions\InvalidArgumentException;
use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Exceptions\WorkerClassNotFoundException;
use Seiger\sTask\Exceptions\WorkerInvalidInterfaceException;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Models\sWorker;

/**
 * Issue 11: hostile PHP values. Arrays that contain themselves or nest
 * thousands deep used to overflow the stack while becoming JSON (a
 * segfault, which also kills PHPUnit), so each of those runs in a child
 * process whose exit code and output are asserted. Array keys that are not
 * UTF-8 used to panic inside ext-php-rs's iterator; a panic reached PHP as
 * `Error: Rust panic` with the panic printed to stderr.
 */
final class HardeningTest extends TestCase
{
    /** Where a PHP value becomes JSON, each with the argument it must name. */
    private const SITES = [
        'create' => ['sTask::create("w", "a", $rec);', 'data'],
        'model create' => ['sTaskModel::create(["identifier" => "w", "action" => "a", "meta" => $rec]);', 'meta'],
        'update' => ['sTask::create("w", "a")->update(["result" => $rec]);', 'result'],
        'save' => ['$m = sTask::create("w", "a"); $m->meta = $rec; $m->save();', 'meta'],
        'worker settings' => ['Seiger\sTask\Models\sWorker::where("identifier", "product")->first()->update(["settings" => $rec]);', 'settings'],
    ];

    /** The two hostile values, as PHP code building `$rec`. */
    private const VALUES = [
        'self-referencing' => '$rec = []; $rec["x"] = &$rec;',
        '8000 deep' => '$rec = 1; for ($i = 0; $i < 8000; $i++) { $rec = [$rec]; }',
    ];

    public function testSelfReferencingAndDeeplyNestedArraysAreAnInvalidArgumentWhereverAValueBecomesJson(): void
    {
        $this->assertNotNull(sTask::registerWorker(ProductWorker::class));
        foreach (self::VALUES as $kind => $value) {
            foreach (self::SITES as $site => [$code, $field]) {
                [$rc, $out, $err] = $this->child($value . "\ntry { {$code} echo 'accepted'; } catch (\\Throwable \$e) { echo get_class(\$e), ': ', \$e->getMessage(); }");
                $this->assertSame(0, $rc, "{$site}, {$kind}: the process died ({$rc}): {$out} {$err}");
                $this->assertStringStartsWith(InvalidArgumentException::class . ': Invalid ' . $field . ':', $out, "{$site}, {$kind}");
                $this->assertStringContainsString($kind === '8000 deep' ? 'deeper than 512' : 'recursion', $out, "{$site}, {$kind}");
            }
            [$rc, $out] = $this->child($value . "\n\$r = sTask::handleHttp(['method' => 'GET', 'path' => '/health', 'query' => \$rec]); echo \$r['status'], ' ', \$r['body'];");
            $this->assertSame(0, $rc, "handleHttp, {$kind}: {$out}");
            $this->assertStringStartsWith('400 {', $out, "handleHttp, {$kind}");
        }
    }

    public function testArraysUpTo512LevelsAreStoredAndReadBackWhole(): void
    {
        $value = 'leaf';
        for ($i = 0; $i < 511; $i++) {
            $value = [$value];
        }
        $task = sTask::create('w', 'a', $value);
        $back = sTaskModel::find($task->id)->meta;
        $depth = 0;
        while (is_array($back)) {
            $back = $back[0];
            $depth++;
        }
        $this->assertSame([511, 'leaf'], [$depth, $back]);

        $this->expectException(InvalidArgumentException::class);
        sTask::create('w', 'a', [[$value]]);
    }

    public function testDeeplyNestedJsonInARowIsReadWithoutCrashing(): void
    {
        $task = sTask::create('w', 'a', ['ok' => true]);
        $deep = str_repeat('[', 100000) . str_repeat(']', 100000);
        $this->rawUpdate($task->id, $deep);
        [$rc, $out, $err] = $this->child('$t = sTaskModel::find(' . $task->id . '); echo gettype($t->meta), " ", strlen((string) json_encode($t->toArray()["meta"] ?? null));'
            . ' $r = sTask::handleHttp(["method" => "GET", "path" => "/tasks/' . $task->id . '", "auth" => ["mode" => "trusted", "user_id" => 1]]); echo " ", $r["status"];');
        $this->assertSame(0, $rc, "reading the row killed the process: {$out} {$err}");
        $this->assertSame('string 200002 200', $out, 'JSON too deep to decode comes back as the text it is');
    }

    public function testADeeplyNestedRequestBodyIsA4xx(): void
    {
        $body = str_repeat('{"a":', 100000) . '1' . str_repeat('}', 100000);
        $r = sTask::handleHttp(['method' => 'POST', 'path' => '/tasks', 'body' => $body,
            'headers' => ['content-type' => 'application/json'], 'auth' => ['mode' => 'trusted', 'user_id' => 1]]);
        $this->assertGreaterThanOrEqual(400, $r['status']);
        $this->assertLessThan(500, $r['status'], $r['body'] ?? '');
    }

    public function testAnArrayKeyThatIsNotUtf8IsAnInvalidArgument(): void
    {
        foreach ([
            fn () => sTask::create('x', 'y', ["\xff" => 1]),
            fn () => sTask::create('x', 'y', ['ok' => ['nested' => ["a\xc3" => 1]]]),
            fn () => sTaskModel::create(["ident\xffifier" => 'x']),
            fn () => sTask::create('x', 'y')->update(["\xfe" => 1]),
            fn () => sTaskModel::query()->where(["\xff" => 1])->get(),
            fn () => sTask::configure(["\xff" => 1]),
            fn () => sTask::create("id\xff", 'y'),
            fn () => sTask::create('x', 'y', ['v' => "\xc3"]),
        ] as $i => $call) {
            try {
                $call();
                $this->fail("call {$i} accepted a key that is not UTF-8");
            } catch (InvalidArgumentException $e) {
                $this->assertStringContainsString('not valid UTF-8', $e->getMessage(), "call {$i}");
            }
        }
    }

    public function testARequestWithAQueryKeyThatIsNotUtf8IsA400BeforeAuthentication(): void
    {
        foreach (['query' => ["\xff" => '1'], 'form' => ["a\xff" => 'x'], 'headers' => ["x-\xff" => 'v'], 'files' => ["\xff" => []]] as $part => $value) {
            $r = sTask::handleHttp(['method' => 'GET', 'path' => '/health', $part => $value]);
            $this->assertSame(400, $r['status'], $part);
            $this->assertStringContainsString('"success":false', $r['body'], $part);
        }
        $r = sTask::handleHttp(['method' => 'GET', 'path' => "/health\xff"]);
        $this->assertSame(400, $r['status']);
        // Lists whose keys are not read (a header's values) take any key (found by tools/fuzz.php).
        $r = sTask::handleHttp(['method' => 'GET', 'path' => '/health', 'headers' => ['accept' => ["\xff" => 'application/json']]]);
        $this->assertContains($r['status'], [200, 401, 503]);
        $this->assertSame(0, sTaskModel::whereIn('id', ["\xff" => 424242])->count());
    }

    public function testAPanicIsAnInternalErrorExceptionWithAPlainMessageAndNothingOnStderr(): void
    {
        [$rc, $out, $err] = $this->child(
            'try { sTask::handleHttp(["method" => "GET", "path" => "/health"]); } catch (\Throwable $e) { echo get_class($e), "|", $e->getMessage(); }'
            . ' try { throw new \Error("Rust panic: not ours"); } catch (\Error $e) { echo "|", get_class($e); }',
            ['STASK_TEST_PANIC' => '1'],
        );
        $this->assertSame(0, $rc, $err);
        $this->assertSame('', $err, 'the panic hook printed to stderr');
        [$class, $message, $userError] = explode('|', $out) + ['', '', ''];
        $this->assertSame(\Seiger\sTask\Exceptions\InternalErrorException::class, $class);
        $this->assertTrue(is_subclass_of($class, sTaskException::class), 'callers catching sTaskException catch it');
        $this->assertStringStartsWith('stask internal error: panic requested by STASK_TEST_PANIC', $message);
        $this->assertStringNotContainsString('backtrace', $message);
        $this->assertStringNotContainsString('RUST_BACKTRACE', $message);
        $this->assertStringNotContainsString("\n", $message, 'one plain line, no stack');
        $this->assertSame('Error', $userError, "PHP's own Error is left alone");
    }

    public function testExecuteRefusesAnObjectThatIsNotATaskModel(): void
    {
        foreach ([new \stdClass(), new \ArrayObject([]), new \DateTimeImmutable()] as $bad) {
            try {
                sTask::execute($bad);
                $this->fail('execute() accepted ' . get_class($bad));
            } catch (InvalidArgumentException $e) {
                $this->assertStringContainsString('expected an sTaskModel or an id', $e->getMessage());
            }
        }
    }

    public function testAWorkerClassMustImplementTaskInterface(): void
    {
        $worker = sTask::registerWorker(ProductWorker::class);
        foreach (['SplFileObject', 'ArrayObject', sTaskModel::class] as $class) {
            foreach ([
                fn () => $worker->update(['class' => $class]),
                function () use ($worker, $class): void {
                    $worker->class = $class;
                    $worker->save();
                },
                fn () => sWorker::where('identifier', 'product')->update(['class' => $class]),
            ] as $i => $write) {
                try {
                    $write();
                    $this->fail("write {$i} accepted {$class}");
                } catch (WorkerInvalidInterfaceException $e) {
                    $this->assertStringContainsString($class, $e->getMessage());
                }
            }
        }
        $this->assertSame(ProductWorker::class, sTask::getWorker('product')->class);
        // A worker class is still a worker class, with or without its leading backslash.
        $this->assertTrue($worker->fresh()->update(['class' => '\\' . ProductWorker::class]));
        // An abstract worker is refused too (it cannot be constructed to run a task).
        try {
            $worker->fresh()->update(['class' => \Seiger\sTask\Workers\BaseWorker::class]);
            $this->fail('update() accepted the abstract BaseWorker');
        } catch (WorkerClassNotFoundException $e) {
            $this->assertStringContainsString('is abstract', $e->getMessage());
        }
    }

    /**
     * A class that does not load is refused wherever a worker's class is
     * written: an orphan is what a removed package leaves behind, never
     * something written through the models (the task runner would only find
     * out when a task of it runs).
     */
    public function testAWorkerClassThatDoesNotLoadIsRefusedWhereverAClassIsWritten(): void
    {
        $worker = sTask::registerWorker(ProductWorker::class);
        foreach (['Gone\\Worker', '\\Gone\\Worker', 'not a class name', '', "Product\0Worker", '../../etc/passwd'] as $class) {
            foreach ([
                'update()' => fn () => $worker->fresh()->update(['class' => $class]),
                'save()' => function () use ($worker, $class): void {
                    $w = $worker->fresh();
                    $w->class = $class;
                    $w->save();
                },
                'query update()' => fn () => sWorker::where('identifier', 'product')->update(['class' => $class]),
                'registerWorker()' => fn () => sTask::registerWorker($class),
            ] as $how => $write) {
                $what = $how . ' with class ' . json_encode($class);
                try {
                    $write();
                    $this->fail("{$what} was accepted");
                } catch (WorkerClassNotFoundException $e) {
                    $this->assertInstanceOf(sTaskException::class, $e, $what);
                    $this->assertStringContainsString('could not be autoloaded', $e->getMessage(), $what);
                    $this->assertStringContainsString('must be a class that loads and implements Seiger\sTask\Contracts\TaskInterface', $e->getMessage(), $what);
                }
            }
        }
        try {
            $worker->fresh()->update(['class' => 'Gone\\Worker']);
        } catch (WorkerClassNotFoundException $e) {
            $this->assertStringStartsWith("Worker class 'Gone\\Worker' could not be autoloaded", $e->getMessage(), 'the message names the class');
        }
        $this->assertSame(ProductWorker::class, sTask::getWorker('product')->class, 'nothing was written');
    }

    /** A row whose class went away with its package is still read, listed and shown as an orphan. */
    public function testAWorkerWhoseClassNoLongerLoadsIsStillReadListedAndShownAsAnOrphan(): void
    {
        sTask::registerWorker(ProductWorker::class);
        sTask::activateWorker('product');
        $this->orphanWorker('product', 'Gone\\Worker');

        $orphan = sTask::getWorker('product');
        $this->assertNotNull($orphan);
        $this->assertSame('Gone\\Worker', $orphan->class);
        $this->assertFalse($orphan->class_exists);
        $this->assertFalse($orphan->canBeUsed());
        $this->assertNull($orphan->getInstance());
        $this->assertSame('Gone\\Worker', sWorker::find($orphan->id)->toArray()['class']);
        $this->assertContains('product', sTask::getWorkers()->pluck('identifier')->all());
        $this->assertContains('product', sWorker::all()->pluck('identifier')->all());
        $r = sTask::handleHttp(['method' => 'GET', 'path' => '/workers/product', 'auth' => ['mode' => 'trusted', 'user_id' => 1]]);
        $this->assertSame(200, $r['status'], $r['body']);
        $this->assertSame('Gone\\Worker', json_decode($r['body'], true)['worker']['class']);

        // Its other columns can still be changed (a host deactivates it before cleaning up).
        $this->assertTrue($orphan->update(['active' => false, 'title' => 'Gone']));
        $this->assertSame(['Gone\\Worker', false, 'Gone'], [$orphan->fresh()->class, $orphan->fresh()->active, $orphan->fresh()->title]);
        $this->assertSame(1, sTask::cleanOrphanedWorkers());
        $this->assertNull(sTask::getWorker('product'));
    }

    public function testNamesCompareByteForByteAndANulByteIsAnInvalidArgument(): void
    {
        sTask::registerWorker(ProductWorker::class);
        $task = sTask::create('product', 'import');
        $this->assertNotNull(sTask::getWorker('product'));
        foreach (['PRODUCT', 'product ', 'Product'] as $other) {
            $this->assertNull(sTask::getWorker($other), $other);
            $this->assertSame(0, sTaskModel::where('identifier', $other)->count(), $other);
        }
        $this->assertSame([$task->id], sTaskModel::where('identifier', 'product')->pluck('id')->all());
        foreach ([
            fn () => sTask::create("a\0b", 'x'),
            fn () => sTask::create('a', "x\0"),
            fn () => sTaskModel::where('identifier', "product\0")->get(),
            fn () => sTaskModel::whereIn('action', ['import', "im\0port"])->count(),
            fn () => $task->update(['message' => "a\0b"]),
        ] as $i => $call) {
            try {
                $call();
                $this->fail("call {$i} accepted a NUL byte");
            } catch (InvalidArgumentException $e) {
                $this->assertMatchesRegularExpression('/NUL byte|control characters/', $e->getMessage(), "call {$i}");
            }
        }
    }

    public function testTextLongerThanItsColumnIsAnInvalidArgumentOnEveryBackend(): void
    {
        $worker = sTask::registerWorker(ProductWorker::class);
        foreach ([
            'message' => fn () => sTask::create('a', 'b')->update(['message' => str_repeat('x', 65536)]),
            'message ' => fn () => sTaskModel::create(['identifier' => 'a', 'action' => 'b', 'message' => str_repeat('x', 65536)]),
            'last_error' => fn () => sTask::create('a', 'b')->update(['last_error' => str_repeat('x', 65536)]),
            'title' => fn () => $worker->fresh()->update(['title' => str_repeat('t', 256)]),
            'scope' => fn () => sWorker::where('identifier', 'product')->update(['scope' => str_repeat('é', 256)]),
            'description' => fn () => $worker->fresh()->update(['description' => str_repeat('d', 65536)]),
        ] as $what => $write) {
            try {
                $write();
                $this->fail("{$what}: accepted");
            } catch (InvalidArgumentException $e) {
                $this->assertStringContainsString('must be at most', $e->getMessage(), $what);
            }
        }
        // Up to the limit is fine, counted in characters for VARCHAR(255).
        $this->assertTrue($worker->fresh()->update(['title' => str_repeat('é', 255)]));
        $this->assertSame(255, mb_strlen(sTask::getWorker('product')->title));
        $this->assertTrue(sTask::create('a', 'b')->update(['message' => str_repeat('x', 65535)]));
    }

    /**
     * Runs PHP code in a child process with the extension, the package and
     * this test's connection; returns [exit code, stdout, stderr].
     *
     * @return array{int, string, string}
     */
    private function child(string $code, array $env = []): array
    {
        $lib = getenv('STASK_LIB') ?: dirname(__DIR__, 2) . '/target/debug/libstask.so';
        $prelude = 'require ' . var_export(dirname(__DIR__, 2) . '/php/autoload.php', true) . ';'
            . ' require ' . var_export(dirname(__DIR__, 2) . '/examples/autoload.php', true) . ';'
            . ' use Seiger\sTask\Facades\sTask; use Seiger\sTask\Models\sTaskModel;'
            . ' sTask::configure(' . var_export($this->connection(), true) . ');';
        $cmd = [PHP_BINARY, '-d', 'extension=' . $lib, '-d', 'display_errors=stderr', '-r', $prelude . "\n" . $code];
        return self::runCommand($cmd, $env);
    }

    /** Writes a task's meta column behind the extension's back. */
    private function rawUpdate(int $id, string $meta): void
    {
        $pdo = match (self::backend()) {
            'pgsql' => new \PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', ''),
            'mariadb' => new \PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', ''),
            default => new \PDO('sqlite:' . $this->database),
        };
        $stmt = $pdo->prepare("UPDATE {$this->prefix}s_tasks SET meta = ? WHERE id = ?");
        $stmt->execute([$meta, $id]);
        $this->assertSame(1, $stmt->rowCount());
    }
}
