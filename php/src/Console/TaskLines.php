<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/**
 * `-v` output of the worker commands: one line per task this process ran,
 *
 *     #12 demo run completed 0.105 s
 *     #13 demo run retry (attempt 1/3: demo failure) 0.002 s
 *
 * Runs are seen through BaseWorker::observe(); the status is the one the
 * engine stored, read back once the batch holding the task is finished
 * (at most every half second while the loop runs, and at the end). Workers
 * that implement TaskInterface without extending BaseWorker, and the native
 * `system` worker, are not seen (they still count in the throughput line).
 */
final class TaskLines
{
    private const STATUSES = [10 => 'pending', 15 => 'preparing', 20 => 'running', 30 => 'completed', 40 => 'failed', 50 => 'cancelled'];

    /** @var array<int, array{id:int, identifier:string, action:string, seconds:float, error:?string}> */
    private array $waiting = [];

    private float $flushedAt = 0.0;

    /** @param callable(string): void $write */
    public function __construct(private $write)
    {
    }

    public function start(): void
    {
        BaseWorker::observe(function (sTaskModel $task, string $action, float $seconds, ?\Throwable $error): void {
            $this->waiting[] = [
                'id' => (int) $task->id,
                'identifier' => (string) $task->identifier,
                'action' => $action,
                'seconds' => $seconds,
                'error' => $error?->getMessage(),
            ];
            if (microtime(true) - $this->flushedAt >= 0.5) {
                $this->flush(false);
            }
        });
    }

    public function stop(): void
    {
        BaseWorker::observe(null);
        $this->flush(true);
    }

    /** Prints the lines of tasks whose outcome is stored (all of them when $final). */
    private function flush(bool $final): void
    {
        $this->flushedAt = microtime(true);
        if ($this->waiting === []) {
            return;
        }
        $ids = array_values(array_unique(array_column($this->waiting, 'id')));
        $rows = [];
        foreach (sTaskModel::whereIn('id', $ids)->get() as $row) {
            $rows[(int) $row->id] = $row;
        }
        $left = [];
        foreach ($this->waiting as $run) {
            $row = $rows[$run['id']] ?? null;
            $status = $row === null ? null : (int) $row->status;
            if (!$final && ($status === 15 || $status === 20)) {
                // Still in the batch being worked: its outcome is not stored yet.
                $left[] = $run;
                continue;
            }
            ($this->write)(self::line($run, $row));
        }
        $this->waiting = $left;
    }

    private static function line(array $run, ?sTaskModel $row): string
    {
        $status = $row === null ? 'deleted' : (self::STATUSES[(int) $row->status] ?? (string) $row->status);
        if ($row !== null && $run['error'] !== null) {
            $attempt = sprintf('attempt %d/%d: %s', (int) $row->attempts, (int) $row->max_attempts, $run['error']);
            $status = ((int) $row->status === 10 ? 'retry' : $status) . " ({$attempt})";
        }

        return sprintf('#%d %s %s %s %.3f s', $run['id'], $run['identifier'], $run['action'], $status, $run['seconds']);
    }
}
