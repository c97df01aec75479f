<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/** A worker with a schedule: records each `make` it was given. */
final class NightlyWorker extends BaseWorker
{
    /** @var list<array{int, array}> */
    public static array $made = [];

    public function identifier(): string
    {
        return 'nightly';
    }

    public function taskMake(sTaskModel $task, array $options = []): void
    {
        self::$made[] = [$task->id, $options];
    }
}

/**
 * A schedule saved the way the module saves it fires when workers run:
 * processPendingTasks() (stask:worker's single pass) creates the worker's
 * `make` task for the due slot and runs it, once. The engine's tests
 * (tests/scheduler.rs) cover hosts, ticks, clock changes and policies.
 */
final class ScheduleTest extends TestCase
{
    private function saveSchedule(string $identifier, array $schedule): array
    {
        $r = sTask::handleHttp([
            'method' => 'PUT',
            'path' => "/workers/{$identifier}/schedule",
            'auth' => ['mode' => 'trusted', 'user_id' => 7],
            'body' => json_encode($schedule, JSON_THROW_ON_ERROR),
            'headers' => ['content-type' => 'application/json'],
        ]);
        $this->assertSame(200, $r['status'], $r['body']);

        return json_decode($r['body'], true, 512, JSON_THROW_ON_ERROR);
    }

    public function testADueSlotCreatesAndRunsTheMakeTaskOnce(): void
    {
        NightlyWorker::$made = [];
        sTask::registerWorker(NightlyWorker::class);
        sTask::activateWorker('nightly');
        // A once schedule half a minute ago, in the application's zone.
        $at = (new \DateTimeImmutable('-30 seconds'))->format('Y-m-d H:i:s');
        $this->saveSchedule('nightly', ['type' => 'once', 'enabled' => true, 'datetime' => $at]);

        sTask::processPendingTasks();
        sTask::processPendingTasks();

        $tasks = sTaskModel::query()->where('identifier', 'nightly')->get();
        $this->assertCount(1, $tasks);
        $task = $tasks->first();
        $this->assertSame(['make', 'completed'], [$task->action, $task->status_text]);
        $this->assertCount(1, NightlyWorker::$made);
        [$id, $options] = NightlyWorker::$made[0];
        $this->assertSame($task->id, $id);
        $this->assertFalse($options['manual']);
        $slot = new \DateTimeImmutable($options['scheduled_for']);
        $this->assertSame((new \DateTimeImmutable($at))->getTimestamp(), $slot->getTimestamp());

        // The worker's card shows what the scheduler created.
        $r = sTask::handleHttp(['method' => 'GET', 'path' => '/workers/nightly', 'auth' => ['mode' => 'trusted', 'user_id' => 7]]);
        $worker = json_decode($r['body'], true)['worker'];
        $this->assertSame($task->id, $worker['last_scheduled']['task_id']);
        $this->assertNull($worker['next_run'], 'a once schedule has nothing left');
    }

    public function testAnInactiveWorkersScheduleDoesNotFire(): void
    {
        sTask::registerWorker(NightlyWorker::class);
        $at = (new \DateTimeImmutable('-30 seconds'))->format('Y-m-d H:i:s');
        $this->saveSchedule('nightly', ['type' => 'once', 'enabled' => true, 'datetime' => $at]);

        sTask::processPendingTasks();

        $this->assertSame(0, sTaskModel::query()->where('identifier', 'nightly')->count());
    }
}
