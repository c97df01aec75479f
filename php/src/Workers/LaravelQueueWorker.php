<?php

declare(strict_types=1);

namespace Seiger\sTask\Workers;

use Illuminate\Container\Container;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Queue\StaskJob;

/**
 * Runs Laravel queue jobs pushed on the `stask` connection. The job is
 * rebuilt from its payload and fired as queue:work would (for dispatched jobs
 * that is CallQueuedHandler::call); an exception propagates so the engine
 * records the attempt and retries.
 */
class LaravelQueueWorker extends BaseWorker
{
    public const IDENTIFIER = 'laravel_queue';

    public function identifier(): string
    {
        return self::IDENTIFIER;
    }

    public function scope(): string
    {
        return 'laravel';
    }

    public function icon(): string
    {
        return '<i class="fa fa-layer-group"></i>';
    }

    public function title(): string
    {
        return 'Laravel Queue';
    }

    public function description(): string
    {
        return 'Runs jobs dispatched to the Laravel queue connection "stask".';
    }

    public function taskHandle(sTaskModel $task, array $options = []): void
    {
        $payload = $options['payload'] ?? null;
        if (!is_string($payload) || !is_array($decoded = json_decode($payload, true)) || !isset($decoded['job'])) {
            $this->markFailed($task, 'Invalid Laravel queue payload.');

            return;
        }
        $queue = is_string($options['queue'] ?? null) ? $options['queue'] : 'default';
        $name = is_string($decoded['displayName'] ?? null) ? $decoded['displayName'] : (string) $decoded['job'];

        $job = new StaskJob(Container::getInstance(), $payload, $task, 'stask', $queue);
        try {
            $job->fire();
        } catch (\Throwable $e) {
            if ((int) $task->attempts >= (int) $task->max_attempts) {
                // The engine fails the task after this attempt: fail the job
                // as queue:work would (its failed() hook, JobFailed, failer).
                $this->failJob($job, $queue, $payload, $e);
            }

            throw $e;
        }

        if ($job->hasFailed()) {
            $this->markFailed($task, "{$name} failed.");

            return;
        }
        // Set, not saved: the engine writes it with the task's end, in the
        // one statement that completes the task (markFinished() would add an
        // update and a progress file per job).
        $task->message = $job->isReleased() ? "{$name} released back to the queue." : "{$name} done.";
    }

    /** Job::fail() (calls the job's failed() and fires JobFailed) and the failed-job log. */
    private function failJob(StaskJob $job, string $queue, string $payload, \Throwable $e): void
    {
        try {
            $job->fail($e);
        } finally {
            $container = Container::getInstance();
            if ($container->bound('queue.failer')) {
                $container->make('queue.failer')->log('stask', $queue, $payload, $e);
            }
        }
    }
}
