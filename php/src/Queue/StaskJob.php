<?php

declare(strict_types=1);

namespace Seiger\sTask\Queue;

use Illuminate\Container\Container;
use Illuminate\Contracts\Queue\Job as JobContract;
use Illuminate\Queue\Jobs\Job;
use Seiger\sTask\Models\sTaskModel;

/** A queued Laravel job being run by the sTask engine as task $task. */
class StaskJob extends Job implements JobContract
{
    public function __construct(
        Container $container,
        protected string $payloadJson,
        protected sTaskModel $task,
        string $connectionName,
        string $queue
    ) {
        $this->container = $container;
        $this->connectionName = $connectionName;
        $this->queue = $queue;
    }

    public function getJobId()
    {
        return (string) $this->task->id;
    }

    public function getRawBody()
    {
        return $this->payloadJson;
    }

    public function attempts()
    {
        return max(1, (int) $this->task->attempts);
    }

    /** $this->release($delay) in a job: queue it again as a new task. */
    public function release($delay = 0)
    {
        parent::release($delay);

        (new StaskQueue($this->queue))->createTask(
            $this->payloadJson,
            $this->queue,
            time() + max(0, (int) $delay)
        );
    }

    public function getTask(): sTaskModel
    {
        return $this->task;
    }
}
