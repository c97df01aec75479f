<?php

declare(strict_types=1);

namespace Stask\Tests;

use Examples\Workers\ProductWorker;
use Seiger\sTask\Exceptions\ConfigurationException;
use Seiger\sTask\Exceptions\DatabaseException;
use Seiger\sTask\Exceptions\InvalidArgumentException;
use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Exceptions\TaskCancelledException;
use Seiger\sTask\Exceptions\TaskNotFoundException;
use Seiger\sTask\Exceptions\WorkerClassNotFoundException;
use Seiger\sTask\Exceptions\WorkerInvalidInterfaceException;
use Seiger\sTask\Exceptions\WorkerNotFoundException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Models\sWorker;

/** Not a worker: does not implement TaskInterface. */
final class NotAWorker
{
}

/**
 * Every rejected input gets a typed exception from Seiger\sTask\Exceptions
 * whose message names the problem, and nothing that was accepted is lost.
 */
final class BadInputTest extends TestCase
{
    /**
     * Asserts that $code throws exactly $class (a sTaskException) with a
     * message containing every one of $mentions.
     */
    private function assertRejects(string $class, array $mentions, callable $code): sTaskException
    {
        try {
            $code();
        } catch (\Throwable $e) {
            $this->assertSame($class, get_class($e), 'wrong exception: ' . get_class($e) . ': ' . $e->getMessage());
            $this->assertInstanceOf(sTaskException::class, $e);
            foreach ($mentions as $text) {
                $this->assertStringContainsStringIgnoringCase($text, $e->getMessage());
            }

            return $e;
        }
        $this->fail("expected {$class}, nothing was thrown");
    }

    public function testEveryExceptionExtendsTheSTaskBase(): void
    {
        $this->assertTrue(is_subclass_of(sTaskException::class, \Exception::class));
        foreach ([
            InvalidArgumentException::class,
            DatabaseException::class,
            ConfigurationException::class,
            TaskNotFoundException::class,
            TaskCancelledException::class,
            WorkerNotFoundException::class,
            WorkerClassNotFoundException::class,
            WorkerInvalidInterfaceException::class,
        ] as $class) {
            $this->assertTrue(is_subclass_of($class, sTaskException::class), "{$class} extends sTaskException");
        }
    }

    public function testCreateRejectsAnEmptyIdentifier(): void
    {
        $this->assertRejects(InvalidArgumentException::class, ['identifier'], fn () => sTask::create('', 'import'));
        $this->assertRejects(InvalidArgumentException::class, ['identifier'], fn () => sTask::create('   ', 'import'));
        $this->assertSame(0, sTaskModel::query()->count());
    }

    public function testCreateRejectsAnEmptyAction(): void
    {
        $this->assertRejects(InvalidArgumentException::class, ['action'], fn () => sTask::create('product', ''));
        $this->assertSame(0, sTaskModel::query()->count());
    }

    public function testCreateRejectsUnknownPriority(): void
    {
        $this->assertRejects(InvalidArgumentException::class, ['priority', 'urgent'], fn () => sTask::create('product', 'import', [], 'urgent'));
        $this->assertRejects(InvalidArgumentException::class, ['priority', '7'], fn () => sTask::create('product', 'import', [], 7));
        $this->assertSame(0, sTaskModel::query()->count());
    }

    public function testCreateAcceptsNumericPrioritiesAndKeepsEveryAcceptedTask(): void
    {
        sTask::create('product', 'import', [], 1);
        try {
            sTask::create('product', 'import', [], 'urgent');
        } catch (InvalidArgumentException) {
        }
        sTask::create('product', 'import', [], 2);
        sTask::create('product', 'import', [], 3);

        $this->assertSame(['low', 'normal', 'high'], sTaskModel::query()->orderBy('id', 'asc')->get()->pluck('priority')->all());
    }

    public function testCleanOldTasksRejectsNegativeDays(): void
    {
        $done = sTask::create('product', 'import');
        $done->markAsFinished();

        $this->assertRejects(InvalidArgumentException::class, ['days', '-1'], fn () => sTask::cleanOldTasks(-1));
        $this->assertNotNull(sTaskModel::find($done->id), 'a rejected cleanup deletes nothing');
    }

    public function testANonNumericTaskIdIsRejected(): void
    {
        sTask::create('product', 'import');

        $this->assertRejects(InvalidArgumentException::class, ['id', 'abc'], fn () => sTaskModel::find('abc'));
        $this->assertRejects(InvalidArgumentException::class, ['id'], fn () => sTaskModel::find('1; DROP TABLE s_tasks'));
        $this->assertRejects(InvalidArgumentException::class, ['id', 'abc'], fn () => sTask::cancel('abc'));
        $this->assertRejects(InvalidArgumentException::class, ['id', 'abc'], fn () => sTask::progress('abc'));
        $this->assertSame(1, sTaskModel::query()->count());
        $this->assertTrue($this->task(1)->isPending());
    }

    public function testWorkingOptionsAreValidated(): void
    {
        sTask::create('product', 'import');

        $this->assertRejects(InvalidArgumentException::class, ['batchSize', '0'], fn () => sTask::processPendingTasks(batchSize: 0));
        $this->assertRejects(InvalidArgumentException::class, ['max_task'], fn () => sTask::work(['max_task' => 1]));
        $this->assertTrue($this->task(1)->isPending(), 'a rejected call runs nothing');
    }

    public function testWhereRejectsAnUnknownColumn(): void
    {
        $this->assertRejects(InvalidArgumentException::class, ['nope'], fn () => sTaskModel::where('nope', 1)->get());
        $this->assertRejects(InvalidArgumentException::class, ['id; drop'], fn () => sTaskModel::where('id; drop', 1)->get());
        $this->assertRejects(InvalidArgumentException::class, ['password'], fn () => sWorker::where('password', 'x')->get());
        $this->assertRejects(InvalidArgumentException::class, ['nope'], fn () => sTaskModel::query()->orderBy('nope', 'asc')->get());
    }

    public function testWhereRejectsABadOperator(): void
    {
        $this->assertRejects(InvalidArgumentException::class, ['operator', 'drop'], fn () => sTaskModel::where('id', 'DROP', 1)->get());
        $this->assertRejects(InvalidArgumentException::class, ['direction', 'sideways'], fn () => sTaskModel::query()->orderBy('id', 'sideways')->get());
    }

    public function testOrderByWithoutADirectionSortsAscending(): void
    {
        sTask::create('product', 'b');
        sTask::create('product', 'a');

        $this->assertSame(['b', 'a'], sTaskModel::query()->orderBy('id')->get()->pluck('action')->all());
        $this->assertSame(['a', 'b'], sTaskModel::orderBy('action')->get()->pluck('action')->all());
    }

    public function testCancelRetryAndProgressRejectAnUnknownTaskId(): void
    {
        sTask::create('product', 'import');

        $this->assertRejects(TaskNotFoundException::class, ['999'], fn () => sTask::cancel(999));
        $this->assertRejects(TaskNotFoundException::class, ['999'], fn () => sTask::retry(999));
        $this->assertRejects(TaskNotFoundException::class, ['999'], fn () => sTask::progress(999));
        $this->assertRejects(TaskNotFoundException::class, ['999'], fn () => sTask::execute(999));
        $this->assertTrue($this->task(1)->isPending());
    }

    public function testConfigureRejectsAnUnknownDriverAndKeepsTheWorkingConfiguration(): void
    {
        $task = sTask::create('product', 'import');

        $this->assertRejects(ConfigurationException::class, ['oracle'], fn () => sTask::configure(['driver' => 'oracle', 'database' => 'x']));
        $this->assertRejects(ConfigurationException::class, ['databse'], fn () => sTask::configure(['driver' => 'sqlite', 'databse' => '/tmp/x.sqlite']));

        $this->assertSame('import', sTaskModel::find($task->id)->action, 'the previous configuration still answers');
        sTask::create('product', 'export');
        $this->assertSame(2, sTaskModel::query()->count());
    }

    public function testRegisterWorkerRejectsMissingAndNonWorkerClasses(): void
    {
        $this->assertRejects(WorkerClassNotFoundException::class, ['Missing\\Worker'], fn () => sTask::registerWorker('Missing\\Worker'));
        $this->assertRejects(WorkerInvalidInterfaceException::class, [NotAWorker::class], fn () => sTask::registerWorker(NotAWorker::class));
        $this->assertSame(0, sWorker::query()->count());
        $this->assertNotNull(sTask::registerWorker(ProductWorker::class));
    }

    public function testModelWritesRejectValuesTheColumnCannotHold(): void
    {
        $task = sTask::create('product', 'import');

        $this->assertRejects(InvalidArgumentException::class, ['status', 'done-ish'], fn () => $task->update(['status' => 'done-ish']));
        $this->assertRejects(InvalidArgumentException::class, ['priority', 'urgent'], fn () => $task->update(['priority' => 'urgent']));

        $row = $this->task($task->id);
        $this->assertSame(sTaskModel::TASK_STATUS_PENDING, $row->status);
        $this->assertSame('normal', $row->priority);
    }
}
