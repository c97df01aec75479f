<?php

declare(strict_types=1);

namespace Seiger\sTask\Queue;

use Illuminate\Queue\Connectors\ConnectorInterface;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Workers\LaravelQueueWorker;

/**
 * `'driver' => 'stask'` in config/queue.php: jobs become sTask tasks run by
 * the engine's workers (stask:worker / stask:work), not by queue:work.
 */
class StaskConnector implements ConnectorInterface
{
    /** Whether this process already made sure the laravel_queue worker is active. */
    private static bool $workerReady = false;

    public function connect(array $config)
    {
        self::ensureWorker();

        return new StaskQueue(
            (string) ($config['queue'] ?? 'default'),
            (bool) ($config['after_commit'] ?? false)
        );
    }

    /** Registers and activates the laravel_queue worker the first time it is needed. */
    public static function ensureWorker(): void
    {
        if (self::$workerReady) {
            return;
        }
        $worker = sTask::getWorker(LaravelQueueWorker::IDENTIFIER);
        if ($worker === null || $worker->class !== LaravelQueueWorker::class) {
            sTask::registerWorker(LaravelQueueWorker::class);
            $worker = sTask::getWorker(LaravelQueueWorker::IDENTIFIER);
        }
        if ($worker === null || !$worker->active) {
            sTask::activateWorker(LaravelQueueWorker::IDENTIFIER);
        }
        self::$workerReady = true;
    }
}
