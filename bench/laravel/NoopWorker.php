<?php

namespace App\Workers;

use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/** The benchmark's sTask worker: action `noop` does nothing. */
class NoopWorker extends BaseWorker
{
    public const IDENTIFIER = 'noop';

    public function identifier(): string
    {
        return self::IDENTIFIER;
    }

    public function scope(): string
    {
        return 'bench';
    }

    public function taskNoop(sTaskModel $task, array $options = []): void
    {
    }
}
