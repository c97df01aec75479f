<?php

declare(strict_types=1);

namespace Seiger\sTask\Queue;

use Illuminate\Contracts\Queue\Queue as QueueContract;
use Illuminate\Queue\Queue;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\LaravelQueueWorker;

/**
 * A Laravel queue whose jobs are sTask tasks (worker `laravel_queue`, action
 * `handle`). Retries, timeouts, cancellation and progress are the engine's;
 * pop() returns nothing because queue:work is not how these jobs run.
 */
class StaskQueue extends Queue implements QueueContract
{
    public function __construct(protected string $default = 'default', bool $dispatchAfterCommit = false)
    {
        $this->dispatchAfterCommit = $dispatchAfterCommit;
    }

    public function size($queue = null)
    {
        return sTaskModel::byIdentifier(LaravelQueueWorker::IDENTIFIER)->pending()->count();
    }

    public function pendingSize($queue = null)
    {
        return $this->size($queue);
    }

    public function delayedSize($queue = null)
    {
        return 0;
    }

    public function reservedSize($queue = null)
    {
        return sTaskModel::byIdentifier(LaravelQueueWorker::IDENTIFIER)->running()->count();
    }

    public function creationTimeOfOldestPendingJob($queue = null)
    {
        return null;
    }

    public function push($job, $data = '', $queue = null)
    {
        $queue = $this->getQueue($queue);
        $payload = $this->createPayload($job, $queue, $data);

        return $this->enqueueUsing($job, $payload, $queue, null, fn ($payload, $queue) => $this->pushRaw($payload, $queue));
    }

    public function pushRaw($payload, $queue = null, array $options = [])
    {
        return $this->createTask((string) $payload, $this->getQueue($queue), null);
    }

    public function later($delay, $job, $data = '', $queue = null)
    {
        $queue = $this->getQueue($queue);
        $payload = $this->createPayload($job, $queue, $data);

        return $this->enqueueUsing(
            $job,
            $payload,
            $queue,
            $delay,
            fn ($payload, $queue, $delay) => $this->createTask((string) $payload, $queue, $this->availableAt($delay))
        );
    }

    /** Jobs of this connection run through the sTask engine, never through queue:work. */
    public function pop($queue = null)
    {
        return null;
    }

    public function getQueue($queue = null): string
    {
        return ($queue === null || $queue === '') ? $this->default : (string) $queue;
    }

    /**
     * Queues many jobs with one sTask::createMany() call: one transaction,
     * multi-row inserts, idle workers woken once. Returns the task ids (the
     * job ids) in the order of $jobs. As in Laravel's database queue, no
     * JobQueued events are fired for a bulk push.
     *
     * @param  iterable<object|string>|object|string  $jobs
     * @return list<int>
     */
    public function bulk($jobs, $data = '', $queue = null)
    {
        $queue = $this->getQueue($queue);
        $tasks = [];
        foreach (is_iterable($jobs) ? $jobs : [$jobs] as $job) {
            $tasks[] = $this->taskAttributes((string) $this->createPayload($job, $queue, $data), $queue, null);
        }
        if ($tasks === []) {
            return [];
        }
        StaskConnector::ensureWorker();

        return array_values(sTask::createMany($tasks));
    }

    /** Creates the task; returns its id (the job id). */
    public function createTask(string $payload, string $queue, ?int $availableAt): int
    {
        StaskConnector::ensureWorker();

        return (int) sTaskModel::create($this->taskAttributes($payload, $queue, $availableAt))->id;
    }

    /**
     * The task of one job: worker `laravel_queue`, action `handle`, the
     * payload and queue as its data, the job's $tries as max_attempts and a
     * delay as start_at (keys sTaskModel::create() and sTask::createMany() both take).
     */
    protected function taskAttributes(string $payload, string $queue, ?int $availableAt): array
    {
        $attributes = [
            'identifier' => LaravelQueueWorker::IDENTIFIER,
            'action' => 'handle',
            'data' => ['payload' => $payload, 'queue' => $queue],
            'priority' => 'normal',
        ];
        $decoded = json_decode($payload, true);
        if (is_array($decoded) && isset($decoded['maxTries']) && is_int($decoded['maxTries']) && $decoded['maxTries'] > 0) {
            $attributes['max_attempts'] = $decoded['maxTries'];
        }
        if ($availableAt !== null && $availableAt > time()) {
            $attributes['start_at'] = new \DateTimeImmutable('@' . $availableAt);
        }

        return $attributes;
    }
}
