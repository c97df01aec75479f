<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Exceptions\InvalidArgumentException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/** Records the order in which its tasks run. */
final class OrderWorker extends BaseWorker
{
    /** @var list<string> */
    public static array $ran = [];

    public function identifier(): string
    {
        return 'order';
    }

    public function taskRun(sTaskModel $task, array $options = []): void
    {
        self::$ran[] = $task->meta["name"];
    }
}

final class CreateManyTest extends TestCase
{
    /** The columns a caller chose, as stored (ids and clocks left out). */
    private static function chosen(sTaskModel $t): array
    {
        $a = $t->toArray();
        foreach (['id', 'created_at', 'updated_at', 'available_at'] as $k) {
            unset($a[$k]);
        }
        $a['start_at'] = $t->start_at?->getTimestamp();
        return $a;
    }

    /** Arguments create() accepts, one set per task. */
    private static function goodArguments(): array
    {
        return [
            ['identifier' => 'product', 'action' => 'import'],
            ['identifier' => 'product', 'action' => 'import', 'data' => ['file' => 'a.csv', 'n' => [1, 2.5, null, true], 'ü' => 'é'], 'priority' => 'high'],
            ['identifier' => 'mail', 'action' => 'send', 'priority' => 1, 'userId' => 7, 'maxAttempts' => 5],
            ['identifier' => 'mail', 'action' => 'send', 'priority' => '3', 'userId' => '8', 'unique' => 'mail-8'],
            ['identifier' => 'sync', 'action' => 'run', 'data' => [], 'priority' => null, 'userId' => null, 'startAt' => '+2 hours'],
            ['identifier' => 'sync', 'action' => 'run', 'startAt' => new \DateTimeImmutable('2030-01-02 03:04:05 UTC'), 'maxAttempts' => '1'],
            ['identifier' => 123, 'action' => 45.0, 'data' => ['deep' => ['deeper' => ['x']]]],
        ];
    }

    public function testCreateManyStoresWhatCreateStoresForTheSameArguments(): void
    {
        $args = self::goodArguments();
        $single = [];
        foreach ($args as $a) {
            if (isset($a['unique'])) {
                $a['unique'] .= '-single';
            }
            $single[] = sTask::create(...$a);
        }
        $ids = sTask::createMany($args);

        $this->assertSame(array_keys($args), array_keys($ids));
        foreach ($args as $i => $a) {
            $many = sTaskModel::find($ids[$i]);
            $one = sTaskModel::find($single[$i]->id);
            $expected = self::chosen($one);
            if (isset($a['unique'])) {
                $expected['unique_key'] = $a['unique'];
            }
            $actual = self::chosen($many);
            if (is_string($a['startAt'] ?? null)) {
                // '+2 hours' is read when each call runs: the two calls may
                // straddle a second on a loaded machine.
                $this->assertEqualsWithDelta($expected['start_at'], $actual['start_at'], 5, "element $i");
                unset($expected['start_at'], $actual['start_at']);
            }
            $this->assertEquals($expected, $actual, "element $i");
            $this->assertEqualsWithDelta($one->available_at->getTimestamp(), $many->available_at->getTimestamp(), 5, "element $i");
        }
        $this->assertSame(2 * count($args), sTaskModel::query()->count());
    }

    /** Each bad value, as create() takes it. */
    public static function badArguments(): array
    {
        $ok = ['identifier' => 'product', 'action' => 'import'];
        return [
            'empty identifier' => [['identifier' => ''] + $ok],
            'blank action' => [['action' => '  '] + $ok],
            'control character' => [['action' => "im\nport"] + $ok],
            'long identifier' => [['identifier' => str_repeat('x', 256)] + $ok],
            'array identifier' => [['identifier' => ['x']] + $ok],
            'unknown priority' => [['priority' => 'urgent'] + $ok],
            'numeric priority out of range' => [['priority' => 7] + $ok],
            'float priority' => [['priority' => 1.5] + $ok],
            'text user' => [['userId' => 'abc'] + $ok],
            'string data' => [['data' => 'file.csv'] + $ok],
            'float data' => [['data' => ['x' => NAN]] + $ok],
            'blank unique key' => [['unique' => '   '] + $ok],
            'long unique key' => [['unique' => str_repeat('k', 256)] + $ok],
            'zero attempts' => [['maxAttempts' => 0] + $ok],
            'too many attempts' => [['maxAttempts' => 1001] + $ok],
            'text attempts' => [['maxAttempts' => 'many'] + $ok],
            'bad date' => [['startAt' => 'not a date at all'] + $ok],
            'array date' => [['startAt' => [2030]] + $ok],
        ];
    }

    /** @dataProvider badArguments */
    public function testEveryValueCreateRefusesCreateManyRefusesWholeNamingTheElement(array $bad): void
    {
        try {
            sTask::create(...$bad);
            $this->fail('create() accepted ' . json_encode($bad));
        } catch (\Throwable $single) {
        }
        $this->assertInstanceOf(InvalidArgumentException::class, $single, $single->getMessage());

        try {
            sTask::createMany([['identifier' => 'a', 'action' => 'b'], ['identifier' => 'c', 'action' => 'd'], $bad]);
            $this->fail('createMany() accepted ' . json_encode($bad));
        } catch (\Throwable $many) {
        }
        $this->assertSame(get_class($single), get_class($many));
        $this->assertSame(
            preg_replace('/^Invalid /', 'Invalid tasks[2].', $single->getMessage()),
            $many->getMessage(),
        );
        $this->assertSame(0, sTaskModel::query()->count(), 'nothing of a refused batch is queued');
    }

    public function testElementsMustBeArraysOfKnownFields(): void
    {
        $cases = [
            'tasks[0]: must be an array' => [5],
            'tasks[0].bogus: is not a field' => [['identifier' => 'a', 'action' => 'b', 'bogus' => 1]],
            'tasks[1].action: is required' => [['identifier' => 'a', 'action' => 'b'], ['identifier' => 'a']],
            'tasks[0].identifier: is required' => [['action' => 'b']],
            'tasks[0].userId: is given twice' => [['identifier' => 'a', 'action' => 'b', 'userId' => 1, 'started_by' => 2]],
            'tasks[0]: key 0 is not a field name' => [['a', 'b']],
            'tasks["x"].priority' => ['x' => ['identifier' => 'a', 'action' => 'b', 'priority' => 'urgent']],
        ];
        foreach ($cases as $expected => $tasks) {
            try {
                sTask::createMany($tasks);
                $this->fail("accepted: $expected");
            } catch (InvalidArgumentException $e) {
                $this->assertStringContainsString("Invalid $expected", $e->getMessage());
            }
        }
        $this->assertSame(0, sTaskModel::query()->count());
        $this->assertSame([], sTask::createMany([]));
    }

    public function testColumnNamesAreAcceptedAsAliases(): void
    {
        $ids = sTask::createMany([
            'x' => ['identifier' => 'a', 'action' => 'b', 'started_by' => 9, 'max_attempts' => 2, 'unique_key' => 'alias', 'start_at' => '2031-05-06 07:08:09'],
        ]);
        $t = sTaskModel::find($ids['x']);
        $this->assertSame([9, 2, 'alias'], [$t->started_by, $t->max_attempts, $t->unique_key]);
        $this->assertSame('2031-05-06 07:08:09', $t->start_at->format('Y-m-d H:i:s'));
    }

    public function testUniqueKeysAnswerTheActiveTaskAndCollapseWithinTheBatch(): void
    {
        $held = sTask::create(identifier: 'sync', action: 'run', unique: 'held');
        $done = sTask::create(identifier: 'sync', action: 'run', unique: 'freed');
        sTask::cancel($done->id);

        $ids = sTask::createMany([
            'a' => ['identifier' => 'sync', 'action' => 'run', 'unique' => 'held'],
            'b' => ['identifier' => 'sync', 'action' => 'run', 'unique' => 'new', 'data' => ['first' => true]],
            'c' => ['identifier' => 'sync', 'action' => 'run', 'unique' => 'new', 'data' => ['first' => false]],
            'd' => ['identifier' => 'sync', 'action' => 'run', 'unique' => 'freed'],
            'e' => ['identifier' => 'sync', 'action' => 'run'],
        ]);

        $this->assertSame($held->id, $ids['a']);
        $this->assertSame($ids['b'], $ids['c']);
        $this->assertSame(['first' => true], sTaskModel::find($ids["b"])->meta, 'the first of the batch wins');
        $this->assertNotSame($done->id, $ids['d']);
        $this->assertSame(2 + 3, sTaskModel::query()->count());

        // The same batch again: only the task without a key is new.
        $again = sTask::createMany([
            ['identifier' => 'sync', 'action' => 'run', 'unique' => 'new'],
            ['identifier' => 'sync', 'action' => 'run', 'unique' => 'freed'],
            ['identifier' => 'sync', 'action' => 'run'],
        ]);
        $this->assertSame([$ids['b'], $ids['d']], [$again[0], $again[1]]);
        $this->assertSame(6, sTaskModel::query()->count());
        // And create() sees the batch's keys.
        $this->assertSame($ids['b'], sTask::create(identifier: 'sync', action: 'run', unique: 'new')->id);
    }

    public function testTasksOfABatchAreClaimedByPriorityThenInOrder(): void
    {
        OrderWorker::$ran = [];
        sTask::registerWorker(OrderWorker::class);
        sTask::activateWorker('order');
        $tasks = [];
        foreach (['low', 'normal', 'high'] as $round => $_) {
            foreach (['low', 'high', 'normal'] as $p) {
                $tasks[] = ['identifier' => 'order', 'action' => 'run', 'priority' => $p, 'data' => ['name' => "$p$round"]];
            }
        }
        sTask::createMany($tasks);
        sTask::processPendingTasks(batchSize: 4);
        $this->assertSame(['high0', 'high1', 'high2', 'normal0', 'normal1', 'normal2', 'low0', 'low1', 'low2'], OrderWorker::$ran);
    }

    public function testALargeBatchIsStoredWhole(): void
    {
        $n = 20_000;
        $tasks = [];
        for ($i = 0; $i < $n; $i++) {
            $tasks["job-$i"] = ['identifier' => 'bulk', 'action' => 'run', 'data' => ['i' => $i], 'priority' => ['low', 'normal', 'high'][$i % 3]];
        }
        $ids = sTask::createMany($tasks);

        $this->assertCount($n, $ids);
        $this->assertSame(array_keys($tasks), array_keys($ids));
        $values = array_values($ids);
        $sorted = $values;
        sort($sorted);
        $this->assertSame($sorted, $values, 'ids ascend in input order');
        $this->assertCount($n, array_unique($values));
        $this->assertSame($n, sTaskModel::query()->count());
        foreach ([0, 1, 2046, 2047, 4095, 4096, 9999, $n - 1] as $i) {
            $t = sTaskModel::find($ids["job-$i"]);
            $this->assertSame(['i' => $i], $t->meta);
            $this->assertSame(['low', 'normal', 'high'][$i % 3], $t->priority);
        }
    }
}
