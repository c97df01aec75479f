<?php

declare(strict_types=1);

namespace Stask\Tests;

use Carbon\Carbon;
use Examples\Workers\ProductSyncWorker;
use Seiger\sTask\Contracts\TaskInterface;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/**
 * A worker written the way public sTask workers are: task{Action} methods
 * that report progress, finish or fail the task, and touch the row.
 * Observations made while a task runs are kept in $seen.
 */
final class RecordingWorker extends BaseWorker
{
    /** @var array<string, mixed> */
    public static array $seen = [];

    public function identifier(): string
    {
        return 'recording';
    }

    public function taskCount(sTaskModel $task, array $options = []): void
    {
        $total = (int) ($options['total'] ?? 10);
        for ($i = 1; $i <= $total; $i++) {
            $this->pushProgress($task, [
                'processed' => $i,
                'total' => $total,
                'progress' => intdiv($i * 100, $total),
                'eta' => '2m 10s',
                'message' => "Row {$i}",
            ]);
            if ($i === intdiv($total, 2)) {
                self::$seen['progress'] = sTask::progress($task->id);
                self::$seen['row'] = sTaskModel::find($task->id)->toArray();
            }
        }
    }

    public function taskFinish(sTaskModel $task, array $options = []): void
    {
        $this->markFinished($task, $options['path'] ?? null, $options['message'] ?? null);
    }

    public function taskSetMessage(sTaskModel $task, array $options = []): void
    {
        $task->message = 'Set and returned';
    }

    public function taskFail(sTaskModel $task, array $options = []): void
    {
        $this->markFailed($task, 'Supplier feed is empty');
    }

    public function taskSaveProgress(sTaskModel $task, array $options = []): void
    {
        $task->progress = 60;
        $task->save();
        self::$seen['after_save'] = sTaskModel::find($task->id)->progress;
        $task->progress = 100;
        $task->save();
    }

    public function taskUpdateRow(sTaskModel $task, array $options = []): void
    {
        $task->update(['message' => 'Step 1 of 2', 'progress' => 30]);
        $row = sTaskModel::find($task->id);
        self::$seen['after_update'] = [$row->message, $row->progress];
    }

    public function taskThrow(sTaskModel $task, array $options = []): void
    {
        self::$seen['attempts'][] = $task->attempts;
        throw new \RuntimeException('supplier API down');
    }

    public function taskCancelSelf(sTaskModel $task, array $options = []): void
    {
        sTask::cancel($task->id);
        $this->pushProgress($task, ['progress' => 50, 'message' => 'still going']);
        self::$seen['after_cancel'] = true;
    }

    public function taskSyncStock(sTaskModel $task, array $options = []): void
    {
        self::$seen['dispatched'][] = ['taskSyncStock', $options];
    }

    public function taskImportCsv(sTaskModel $task, array $options = []): void
    {
        self::$seen['dispatched'][] = ['taskImportCsv', $options];
    }

    /** A helper named like an action: must not be reachable as one. */
    protected function taskHelper(sTaskModel $task, array $options = []): void
    {
        self::$seen['helper'] = true;
    }

    public function resolve(string $action): string
    {
        return $this->resolveActionMethod($action);
    }
}

/** Overrides title and description with markup, for renderWidget(). */
final class WidgetWorker extends BaseWorker
{
    public function identifier(): string
    {
        return 'widget_demo';
    }

    public function title(): string
    {
        return 'Report <script>alert(1)</script>';
    }

    public function description(): string
    {
        return 'Builds the "daily" report & mails it';
    }

    public function taskDailyReport(sTaskModel $task, array $options = []): void
    {
    }

    public function taskImportCSVFile(sTaskModel $task, array $options = []): void
    {
    }

    /** Not an action: the API refuses it, so the widget must not offer it. */
    protected function taskHelper(): void
    {
    }
}

final class BaseWorkerTest extends TestCase
{
    protected function setUp(): void
    {
        parent::setUp();
        RecordingWorker::$seen = [];
    }

    private function runTask(string $action, array $options = []): sTaskModel
    {
        $task = sTask::create('recording', $action, $options);
        sTask::processPendingTasks();

        return $this->task($task->id);
    }

    // ------------------------------------------------------------ identity

    public function testIsATaskInterfaceWithTheDocumentedDefaults(): void
    {
        $worker = new ProductSyncWorker();

        $this->assertInstanceOf(TaskInterface::class, $worker);
        $this->assertSame('Product Sync', $worker->title());
        $this->assertSame('<i class="fa fa-cog"></i>', (new RecordingWorker())->icon());
        $this->assertSame('stask', (new RecordingWorker())->scope());
        $this->assertSame('', (new RecordingWorker())->description());
        $this->assertSame([], $worker->settings());
    }

    public function testRenderWidgetEscapesTextAndCarriesTheRunButton(): void
    {
        $html = (new WidgetWorker())->renderWidget();

        $this->assertStringContainsString('data-stask-identifier="widget_demo"', $html);
        $this->assertSame(['daily_report', 'import_csv_file'], (new WidgetWorker())->declaredActions());
        $this->assertStringContainsString('data-stask-action="daily_report">Daily Report</button>', $html);
        $this->assertStringContainsString('data-stask-action="import_csv_file"', $html);
        $this->assertStringNotContainsString('data-stask-action="make"', $html);
        $this->assertStringNotContainsString('helper', $html);
        $this->assertStringContainsString('data-stask-action="import"', (new ProductSyncWorker())->renderWidget());
        $bare = new class () extends BaseWorker {
            public function identifier(): string
            {
                return 'bare';
            }
        };
        $this->assertStringNotContainsString('<button', $bare->renderWidget(), 'no actions, no run button');
        $this->assertStringContainsString('<i class="fa fa-cog"></i>', $html);
        $this->assertStringContainsString('Report &lt;script&gt;alert(1)&lt;/script&gt;', $html);
        $this->assertStringContainsString('Builds the &quot;daily&quot; report &amp; mails it', $html);
        $this->assertStringNotContainsString('<script>', $html);
    }

    // ------------------------------------------------------------ settings

    public function testConfigUsesDotNotationAndPersistsInSWorkers(): void
    {
        sTask::registerWorker(RecordingWorker::class);
        $worker = new RecordingWorker();

        $worker->setConfig('api.credentials.key', 'abc');
        $worker->setConfig('api.timeout', 30);

        $this->assertSame('abc', $worker->getConfig('api.credentials.key'));
        $this->assertSame(30, $worker->getConfig('api.timeout'));
        $this->assertSame(['key' => 'abc'], $worker->getConfig('api.credentials'));
        $this->assertSame('fallback', $worker->getConfig('api.missing', 'fallback'));
        $this->assertSame('fallback', $worker->getConfig('api.credentials.key.deeper', 'fallback'));
        $this->assertNull($worker->getConfig('nothing'));
        $this->assertSame(
            ['api' => ['credentials' => ['key' => 'abc'], 'timeout' => 30]],
            sTask::getWorker('recording')->settings
        );
        $this->assertSame(30, (new RecordingWorker())->getConfig('api.timeout'), 'a new instance reads the stored settings');
    }

    public function testSetConfigReplacesAScalarInTheWay(): void
    {
        sTask::registerWorker(RecordingWorker::class);
        $worker = new RecordingWorker();
        $worker->setConfig('mode', 'fast');

        $worker->setConfig('mode.level', 2);

        $this->assertSame(['mode' => ['level' => 2]], sTask::getWorker('recording')->settings);
    }

    public function testUpdateConfigMergesTopLevelKeys(): void
    {
        sTask::registerWorker(RecordingWorker::class);
        $worker = new RecordingWorker();
        $worker->setConfig('api.timeout', 30);
        $worker->setConfig('batch', 50);

        $worker->updateConfig(['api' => ['timeout' => 5], 'verbose' => true]);

        $this->assertSame(
            ['api' => ['timeout' => 5], 'batch' => 50, 'verbose' => true],
            sTask::getWorker('recording')->settings
        );
        $this->assertSame(5, (new RecordingWorker())->getConfig('api.timeout'));
    }

    public function testConfigOfAnUnregisteredWorkerStaysInMemory(): void
    {
        $worker = new RecordingWorker();

        $worker->setConfig('api.timeout', 30);
        $worker->updateConfig(['batch' => 10]);

        $this->assertSame(['api' => ['timeout' => 30], 'batch' => 10], $worker->settings());
        $this->assertNull(sTask::getWorker('recording'));
        $this->assertSame([], (new RecordingWorker())->settings());
    }

    // ------------------------------------------------------------ schedule

    public function testGetScheduleDefaultsToADisabledManualSchedule(): void
    {
        $this->assertSame([
            'type' => 'manual',
            'enabled' => false,
            'datetime' => null,
            'time' => null,
            'frequency' => 'hourly',
            'days' => [],
            'start_time' => null,
            'end_time' => null,
            'interval' => 'hourly',
            'expression' => null,
            'missed' => 'skip',
        ], (new RecordingWorker())->getSchedule());
        $this->assertFalse((new RecordingWorker())->shouldRunNow());
    }

    public function testGetScheduleReturnsTheStoredScheduleOverTheDefaults(): void
    {
        sTask::registerWorker(RecordingWorker::class);
        (new RecordingWorker())->setConfig('schedule', ['type' => 'periodic', 'enabled' => true, 'time' => '*:15']);

        $schedule = (new RecordingWorker())->getSchedule();

        $this->assertSame('periodic', $schedule['type']);
        $this->assertTrue($schedule['enabled']);
        $this->assertSame('*:15', $schedule['time']);
        $this->assertSame('hourly', $schedule['frequency']);
        $this->assertSame([], $schedule['days']);
    }

    /** @return array<string, array{array, string, bool}> */
    public function schedules(): array
    {
        // 2025-01-13 is a Monday.
        return [
            'once, 10 s after its time' => [['type' => 'once', 'datetime' => '2025-01-13 09:00:00'], '2025-01-13 09:00:10', true],
            'once, 31 s after its time' => [['type' => 'once', 'datetime' => '2025-01-13 09:00:00'], '2025-01-13 09:00:31', false],
            'once, before its time' => [['type' => 'once', 'datetime' => '2025-01-13 09:00:00'], '2025-01-13 08:59:59', false],
            'periodic hourly on its minute' => [['type' => 'periodic', 'frequency' => 'hourly', 'time' => '*:15'], '2025-01-13 10:15:40', true],
            'periodic hourly off its minute' => [['type' => 'periodic', 'frequency' => 'hourly', 'time' => '*:15'], '2025-01-13 10:16:00', false],
            'periodic hourly needs a star hour' => [['type' => 'periodic', 'frequency' => 'hourly', 'time' => '10:15'], '2025-01-13 10:15:00', false],
            'periodic daily at its time' => [['type' => 'periodic', 'frequency' => 'daily', 'time' => '9:30'], '2025-01-13 09:30:00', true],
            'periodic daily another hour' => [['type' => 'periodic', 'frequency' => 'daily', 'time' => '09:30'], '2025-01-13 10:30:00', false],
            'periodic weekly on a listed day' => [['type' => 'periodic', 'frequency' => 'weekly', 'time' => '06:00', 'days' => ['monday', 'friday']], '2025-01-13 06:00:00', true],
            'periodic weekly on another day' => [['type' => 'periodic', 'frequency' => 'weekly', 'time' => '06:00', 'days' => ['friday']], '2025-01-13 06:00:00', false],
            'regular inside the window on the interval' => [['type' => 'regular', 'start_time' => '08:00', 'end_time' => '18:00', 'interval' => 'every_15min'], '2025-01-13 09:45:00', true],
            'regular inside the window off the interval' => [['type' => 'regular', 'start_time' => '08:00', 'end_time' => '18:00', 'interval' => 'every_15min'], '2025-01-13 09:50:00', false],
            'regular at the window end' => [['type' => 'regular', 'start_time' => '08:00', 'end_time' => '18:00', 'interval' => 'every_30min'], '2025-01-13 18:00:00', true],
            'regular outside the window' => [['type' => 'regular', 'start_time' => '08:00', 'end_time' => '18:00', 'interval' => 'every_5min'], '2025-01-13 19:00:00', false],
            'regular hourly on the hour' => [['type' => 'regular', 'start_time' => '08:00', 'end_time' => '18:00', 'interval' => 'hourly'], '2025-01-13 12:00:00', true],
            'regular window across midnight' => [['type' => 'regular', 'start_time' => '22:00', 'end_time' => '02:00', 'interval' => 'every_5min'], '2025-01-13 01:05:00', true],
            'regular unknown interval' => [['type' => 'regular', 'start_time' => '08:00', 'end_time' => '18:00', 'interval' => 'weekly'], '2025-01-13 12:00:00', false],
            'manual never runs' => [['type' => 'manual'], '2025-01-13 12:00:00', false],
            'disabled never runs' => [['type' => 'periodic', 'frequency' => 'hourly', 'time' => '*:00', 'enabled' => false], '2025-01-13 12:00:00', false],
        ];
    }

    /** @dataProvider schedules */
    public function testShouldRunNowFollowsTheScheduleInApplicationTime(array $schedule, string $now, bool $expected): void
    {
        Carbon::setTestNow(Carbon::parse($now));
        $worker = new RecordingWorker();
        $worker->setConfig('schedule', $schedule + ['enabled' => true]);

        $this->assertSame($expected, $worker->shouldRunNow());
    }

    /** Cron schedules are parsed by the engine, on the real clock (not Carbon's test now). */
    public function testShouldRunNowAsksTheEngineForCronSchedules(): void
    {
        $worker = new RecordingWorker();
        $worker->setConfig('schedule', ['type' => 'cron', 'enabled' => true, 'expression' => '* * * * *']);
        $this->assertTrue($worker->shouldRunNow(), 'every minute has a slot');
        $worker->setConfig('schedule', ['type' => 'cron', 'enabled' => true, 'expression' => '0 0 29 2 *']);
        $this->assertSame(date('m-d H:i') === '02-29 00:00', $worker->shouldRunNow(), 'midnight of a leap day only');
        $worker->setConfig('schedule', ['type' => 'cron', 'enabled' => false, 'expression' => '* * * * *']);
        $this->assertFalse($worker->shouldRunNow(), 'disabled');
        $this->expectException(\Seiger\sTask\Exceptions\InvalidArgumentException::class);
        $this->expectExceptionMessage('expression');
        sTask::scheduleIsDue(['type' => 'cron', 'enabled' => true, 'expression' => 'every day']);
    }

    // ------------------------------------------------------------ tasks

    public function testCreateTaskQueuesForTheLoggedInManager(): void
    {
        $task = (new RecordingWorker())->createTask('count', ['total' => 3]);

        $row = $this->task($task->id);
        $this->assertSame('recording', $row->identifier);
        $this->assertSame('count', $row->action);
        $this->assertSame(['total' => 3], $row->meta);
        $this->assertSame(7, $row->started_by);
        $this->assertSame('normal', $row->priority);
        $this->assertSame('_Task queued..._', $row->message);
        $this->assertTrue($row->isPending());
    }

    public function testCreateTaskWithoutALoginStartsAsSystemWithNoOptions(): void
    {
        Host::$userId = null;

        $task = (new RecordingWorker())->createTask('count');

        $this->assertSame(0, $this->task($task->id)->started_by);
        $this->assertSame([], $this->task($task->id)->meta);
    }

    public function testActionNamesMapToStudlyTaskMethods(): void
    {
        $worker = new RecordingWorker();

        $this->assertSame('taskExport', $worker->resolve('export'));
        $this->assertSame('taskSyncStock', $worker->resolve('sync_stock'));
        $this->assertSame('taskImportCsv', $worker->resolve('import-csv'));
        $this->assertSame('taskSyncStock', $worker->resolve('SYNC-STOCK'));
    }

    public function testInvokeActionCallsTheActionWithItsOptions(): void
    {
        $task = sTask::create('recording', 'sync_stock');

        (new RecordingWorker())->invokeAction('sync_stock', $task, ['warehouse' => 2]);
        (new RecordingWorker())->invokeAction('import-csv', $task);

        $this->assertSame(
            [['taskSyncStock', ['warehouse' => 2]], ['taskImportCsv', []]],
            RecordingWorker::$seen['dispatched']
        );
    }

    public function testInvokeActionRejectsAMissingAction(): void
    {
        $task = sTask::create('recording', 'nope');

        $this->expectException(\BadMethodCallException::class);
        $this->expectExceptionMessage(RecordingWorker::class . ' missing action method taskNope()');

        (new RecordingWorker())->invokeAction('nope', $task);
    }

    public function testProtectedTaskHelpersAreNotActions(): void
    {
        $task = sTask::create('recording', 'helper');

        try {
            (new RecordingWorker())->invokeAction('helper', $task);
            $this->fail('a protected task* helper was invoked as an action');
        } catch (\BadMethodCallException $e) {
            $this->assertStringContainsString('missing action method taskHelper()', $e->getMessage());
        }
        $this->assertArrayNotHasKey('helper', RecordingWorker::$seen);
    }

    // ------------------------------------------------------------ progress

    public function testPushProgressWritesTheSnapshotAndMirrorsItToTheRow(): void
    {
        $this->configure(['progress_interval' => 0]);
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('count', ['total' => 10]);

        $midway = RecordingWorker::$seen['progress'];
        $this->assertTrue($midway['success']);
        $this->assertSame($task->id, $midway['id']);
        $this->assertSame('running', $midway['status']);
        $this->assertSame(50, $midway['progress']);
        $this->assertSame(5, $midway['processed']);
        $this->assertSame(10, $midway['total']);
        $this->assertSame('2m 10s', $midway['eta'], 'a worker-supplied eta wins');
        $this->assertSame('Row 5', $midway['message']);
        $this->assertContains('Row 5', $midway['log_lines']);
        $this->assertSame(50, RecordingWorker::$seen['row']['progress']);
        $this->assertSame('Row 5', RecordingWorker::$seen['row']['message']);

        $snapshot = $this->snapshot($task->id);
        foreach (['id', 'identifier', 'action', 'status', 'progress', 'processed', 'total', 'eta', 'message', 'log_lines'] as $key) {
            $this->assertArrayHasKey($key, $snapshot);
        }
        $this->assertSame([$task->id, 'recording', 'count'], [$snapshot['id'], $snapshot['identifier'], $snapshot['action']]);
        $this->assertSame('completed', $snapshot['status']);
        $this->assertSame(100, $snapshot['progress']);
        $this->assertSame([10, 10], [$snapshot['processed'], $snapshot['total']]);
        $this->assertContains('Row 10', $snapshot['log_lines']);
        $this->assertSame(sTaskModel::TASK_STATUS_COMPLETED, $task->status);
        $this->assertSame(100, $task->progress);
    }

    public function testTheSnapshotKeepsTheLastFiftyLogLines(): void
    {
        $this->configure(['progress_interval' => 0]);
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('count', ['total' => 60]);

        $lines = $this->snapshot($task->id)['log_lines'];
        $this->assertCount(50, $lines);
        $this->assertContains('Row 60', $lines);
        $this->assertNotContains('Row 1', $lines);
    }

    public function testMarkFinishedCompletesTheTaskWithItsResultPath(): void
    {
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('finish', ['path' => '/exports/report.csv', 'message' => 'Report ready']);

        $this->assertSame(sTaskModel::TASK_STATUS_COMPLETED, $task->status);
        $this->assertSame(100, $task->progress);
        $this->assertSame('/exports/report.csv', $task->result);
        $this->assertSame('Report ready', $task->message);
        $this->assertInstanceOf(\DateTimeInterface::class, $task->finished_at);
        $snapshot = $this->snapshot($task->id);
        $this->assertSame('completed', $snapshot['status']);
        $this->assertSame(100, $snapshot['progress']);
        $this->assertSame('Report ready', $snapshot['message']);
        $this->assertSame(1, $task->attempts);
    }

    public function testMarkFinishedSaysDoneByDefault(): void
    {
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('finish');

        $this->assertSame('completed', $task->status_text);
        $this->assertSame('Done', $task->message);
        $this->assertNull($task->result);
    }

    public function testAMessageSetAndNotSavedIsWrittenWithTheTasksEnd(): void
    {
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('set_message');

        $this->assertSame('completed', $task->status_text);
        $this->assertSame('Set and returned', $task->message);
        $this->assertSame(100, $task->progress);
        $this->assertFileDoesNotExist("{$this->staskStorage}/{$task->id}.json", 'no progress file for a task that reported none');
    }

    public function testMarkFailedFailsTheTaskForGood(): void
    {
        $this->configure(['retry_base_delay' => 0]);
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('fail');
        $this->drain();
        $task = $task->fresh();

        $this->assertSame(sTaskModel::TASK_STATUS_FAILED, $task->status);
        $this->assertSame('Supplier feed is empty', $task->message);
        $this->assertSame(1, $task->attempts, 'a worker that failed the task is not retried');
        $this->assertInstanceOf(\DateTimeInterface::class, $task->finished_at);
        $snapshot = $this->snapshot($task->id);
        $this->assertSame('failed', $snapshot['status']);
        $this->assertSame('Supplier feed is empty', $snapshot['message']);
    }

    public function testWorkCountsWhatTheWorkersDid(): void
    {
        $this->activeWorker(RecordingWorker::class);
        sTask::create('recording', 'finish');
        sTask::create('recording', 'fail');
        sTask::create('recording', 'count', ['total' => 2]);

        $counters = sTask::work(['max_tasks' => 3, 'max_seconds' => 5, 'sleep' => 0]);

        $this->assertSame(3, $counters['processed']);
        $this->assertSame(2, $counters['completed']);
        $this->assertSame(1, $counters['failed'], 'markFailed() is a failure, even though the worker returned');
        $this->assertSame(0, $counters['retried']);
    }

    public function testAWorkerCanSetProgressAndSaveTheRow(): void
    {
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('save_progress');

        $this->assertSame(60, RecordingWorker::$seen['after_save']);
        $this->assertSame(100, $task->progress);
        $this->assertSame('completed', $task->status_text);
    }

    public function testAWorkerCanUpdateTheRow(): void
    {
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('update_row');

        $this->assertSame(['Step 1 of 2', 30], RecordingWorker::$seen['after_update']);
        $this->assertSame('completed', $task->status_text);
    }

    public function testACancelStopsTheWorkerAtItsNextProgressReport(): void
    {
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('cancel_self');

        $this->assertArrayNotHasKey('after_cancel', RecordingWorker::$seen);
        $this->assertSame(sTaskModel::TASK_STATUS_CANCELLED, $task->status);
        $this->assertTrue($task->isCancelled());
    }

    // ------------------------------------------------------------ failures

    public function testAThrowingWorkerIsRetriedThenFailed(): void
    {
        $this->configure(['retry_base_delay' => 0]);
        $this->activeWorker(RecordingWorker::class);

        $task = $this->runTask('throw');

        $this->assertSame(sTaskModel::TASK_STATUS_PENDING, $task->status, 'the first failure re-queues the task');
        $this->assertSame(1, $task->attempts);
        $this->assertStringContainsString('supplier API down', (string) $task->last_error);

        $this->drain(50);
        $task = $task->fresh();

        $this->assertSame(sTaskModel::TASK_STATUS_FAILED, $task->status);
        $this->assertSame(3, $task->attempts);
        $this->assertStringContainsString('supplier API down', (string) $task->message);
        $this->assertCount(3, RecordingWorker::$seen['attempts']);
    }

    public function testAMissingActionMethodFailsTheTaskWithAHelpfulMessage(): void
    {
        $this->configure(['retry_base_delay' => 0]);
        $this->activeWorker(RecordingWorker::class);

        $this->runTask('nope');
        $this->drain(50);
        $task = $this->task(1);

        $this->assertSame('failed', $task->status_text);
        $this->assertStringContainsString('missing action method taskNope()', (string) $task->message);
    }

    public function testATaskForAnUnknownWorkerFailsWithAHelpfulMessage(): void
    {
        $this->configure(['retry_base_delay' => 0]);
        sTask::create('ghost', 'import');

        sTask::processPendingTasks();
        $this->drain(50);
        $task = $this->task(1);

        $this->assertSame('failed', $task->status_text);
        $this->assertStringContainsString('ghost', (string) $task->message);
    }

    public function testATaskOfAnInactiveWorkerStaysPending(): void
    {
        sTask::registerWorker(RecordingWorker::class);
        sTask::create('recording', 'count', ['total' => 1]);

        sTask::processPendingTasks();
        $task = $this->task(1);

        $this->assertSame(sTaskModel::TASK_STATUS_PENDING, $task->status);
        $this->assertSame(0, $task->attempts);
        $this->assertStringContainsStringIgnoringCase('inactive', (string) $task->message);

        sTask::activateWorker('recording');
        $this->drain();
        $this->assertSame('completed', $this->task(1)->status_text);
    }
}
