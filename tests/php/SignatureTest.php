<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Facades\sTask;

/**
 * The extension's own signatures (arginfo, what Reflection and tools that
 * read it show) carry the types a caller should pass where PHP can say
 * them with one type, while loose values keep being converted by the
 * engine's rules, even under strict_types (this file declares it).
 */
final class SignatureTest extends TestCase
{
    private static function signature(string $method): string
    {
        $m = new \ReflectionMethod(sTask::class, $method);
        $params = array_map(static fn (\ReflectionParameter $p) => trim($p->getType() . ' $' . $p->getName()), $m->getParameters());
        return $method . '(' . implode(', ', $params) . '): ' . $m->getReturnType();
    }

    public function testReflectionShowsTheDeclaredTypes(): void
    {
        $this->assertSame(
            'create(string $identifier, string $action, ?array $data, mixed $priority, ?int $userId, ?string $unique, ?int $maxAttempts, mixed $startAt): Seiger\sTask\Models\sTaskModel',
            self::signature('create'),
        );
        $this->assertSame('cancel(int $id): bool', self::signature('cancel'));
        $this->assertSame('retry(int $id): bool', self::signature('retry'));
        $this->assertSame('progress(int $id): array', self::signature('progress'));
        $this->assertSame('getWorker(string $identifier): ?Seiger\sTask\Models\sWorker', self::signature('getWorker'));
        $this->assertSame('getWorkerStats(?string $identifier, ?int $hours): array', self::signature('getWorkerStats'));
        $this->assertSame('processPendingTasks(?int $batchSize): int', self::signature('processPendingTasks'));
        $find = new \ReflectionMethod(\Seiger\sTask\Models\sTaskModel::class, 'find');
        $this->assertSame('int', (string) $find->getParameters()[0]->getType());
        $limit = new \ReflectionMethod(\Seiger\sTask\Support\Query::class, 'limit');
        $this->assertSame('int', (string) $limit->getParameters()[0]->getType());
        foreach (['getStats', 'getPerformanceAlerts', 'getCacheStats', 'config'] as $m) {
            $this->assertSame("$m(): array", self::signature($m));
        }
    }

    public function testLooseValuesAreStillConvertedByTheEngine(): void
    {
        $task = sTask::create(7, 'run', null, 3, '12', null, '2');
        $this->assertSame('7', $task->identifier);
        $this->assertSame('high', $task->priority);
        $this->assertSame(12, $task->started_by);
        $this->assertSame(2, $task->max_attempts);
        $this->assertTrue(sTask::cancel((string) $task->id));
        $this->assertSame('cancelled', sTask::progress((string) $task->id)['status']);
        $this->assertSame($task->id, \Seiger\sTask\Models\sTaskModel::find((string) $task->id)->id);
        $this->assertCount(1, \Seiger\sTask\Models\sTaskModel::query()->limit('5')->get());
    }

    public function testAValueTheEngineCannotConvertIsItsOwnTypedError(): void
    {
        $this->expectException(\Seiger\sTask\Exceptions\InvalidArgumentException::class);
        $this->expectExceptionMessage('Invalid identifier: expected a string, got array');
        sTask::create([], 'run');
    }
}
