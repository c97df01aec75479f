<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Models\sTaskModel;

/** Lists recent tasks as a table. */
class TasksCommand extends StaskCommand
{
    protected $signature = 'stask:tasks
        {--status= : pending, preparing, running, completed, failed or cancelled (or the status code)}
        {--worker= : Only tasks of this worker identifier}
        {--limit=20 : How many tasks to show}
        {--id= : Show one task with every attempt (outcome, time, memory, process, error and trace)}';

    protected $description = 'List sTask tasks, newest first.';

    /**
     * Status names (and the package's aliases) to codes. A method, not a
     * constant: the class must load where the extension is missing (then the
     * command only says how to load it).
     */
    public static function statuses(): array
    {
        return [
            'pending' => sTaskModel::TASK_STATUS_PENDING,
            'queued' => sTaskModel::TASK_STATUS_QUEUED,
            'preparing' => sTaskModel::TASK_STATUS_PREPARING,
            'running' => sTaskModel::TASK_STATUS_RUNNING,
            'completed' => sTaskModel::TASK_STATUS_COMPLETED,
            'finished' => sTaskModel::TASK_STATUS_FINISHED,
            'failed' => sTaskModel::TASK_STATUS_FAILED,
            'cancelled' => sTaskModel::TASK_STATUS_CANCELLED,
        ];
    }

    public function handle(): int
    {
        try {
            $limit = $this->positiveInt($this->option('limit'), '--limit') ?? 20;
            $status = $this->statusCode($this->option('status'));
        } catch (\InvalidArgumentException $e) {
            return $this->failWith($e->getMessage());
        }
        $worker = $this->option('worker');
        if ($this->option('id') !== null) {
            try {
                $id = $this->positiveInt($this->option('id'), '--id');
            } catch (\InvalidArgumentException $e) {
                return $this->failWith($e->getMessage());
            }

            return $this->showTask((int) $id);
        }

        try {
            $query = sTaskModel::query();
            if ($status !== null) {
                $query = $query->where('status', $status);
            }
            if ($worker !== null && $worker !== '') {
                $query = $query->byIdentifier((string) $worker);
            }
            $tasks = $query->latest('id')->limit($limit)->get();
        } catch (sTaskException $e) {
            return $this->failWith('stask:tasks: ' . $e->getMessage());
        }

        if ($tasks->isEmpty()) {
            $this->line('No tasks.');

            return 0;
        }
        $rows = [];
        foreach ($tasks as $task) {
            $rows[] = [
                $task->id,
                $task->identifier,
                $task->action,
                $task->status_text,
                $task->priority,
                $task->attempts . '/' . $task->max_attempts,
                $task->progress . '%',
                $task->created_at,
            ];
        }
        $this->table(['ID', 'Worker', 'Action', 'Status', 'Priority', 'Attempts', 'Progress', 'Created'], $rows);

        return 0;
    }

    /** One task and its attempts, as GET /tasks/{id} gives them. */
    private function showTask(int $id): int
    {
        try {
            $response = \Seiger\sTask\Facades\sTask::handleHttp([
                'method' => 'GET',
                'path' => "/tasks/{$id}",
                'auth' => ['mode' => 'trusted', 'user_id' => null],
            ]);
        } catch (sTaskException $e) {
            return $this->failWith('stask:tasks: ' . $e->getMessage());
        }
        $data = json_decode((string) ($response['body'] ?? ''), true);
        if ($response['status'] !== 200 || !is_array($data)) {
            return $this->failWith('stask:tasks: ' . ($data['message'] ?? "task #{$id} could not be read"));
        }
        $task = $data['task'];
        $this->line(sprintf(
            'Task #%d  %s/%s  %s  attempts %d/%d  progress %d%%',
            $task['id'], $task['identifier'], $task['action'], $task['status_text'],
            $task['attempts'], $task['max_attempts'], $task['progress']
        ));
        if ((string) ($task['message'] ?? '') !== '') {
            $this->line('Message: ' . $task['message']);
        }
        if ($task['status_text'] === 'pending' && ($data['worker_processes'] ?? 1) === 0) {
            $this->warn('No worker process is running: start php artisan stask:work, or check the cron entry (php artisan schedule:run).');
        }
        if ($data['history'] === []) {
            $this->line('No attempt yet.');

            return 0;
        }
        $rows = [];
        foreach ($data['history'] as $a) {
            $rows[] = [
                $a['attempt'],
                $a['outcome'],
                $a['started_at'] ?? '',
                $a['duration'] === null ? '' : round((float) $a['duration'], 3) . ' s',
                $a['peak_memory'] === null ? '' : round($a['peak_memory'] / 1048576, 1) . ' MB',
                $a['owner'] ?? '',
                trim(($a['error_class'] ?? '') . ' ' . ($a['message'] ?? '')),
            ];
        }
        $this->table(['#', 'Outcome', 'Started', 'Duration', 'Memory', 'Process', 'Error / message'], $rows);
        foreach ($data['history'] as $a) {
            if (($a['trace'] ?? null) !== null) {
                $this->line("Attempt {$a['attempt']} trace:");
                $this->line($a['trace']);
            }
        }

        return 0;
    }

    private function statusCode(mixed $value): ?int
    {
        if ($value === null || $value === '') {
            return null;
        }
        $text = strtolower(trim((string) $value));
        if (isset(self::statuses()[$text])) {
            return self::statuses()[$text];
        }
        if (ctype_digit($text) && in_array((int) $text, self::statuses(), true)) {
            return (int) $text;
        }

        throw new \InvalidArgumentException(
            "Unknown status '{$value}': use pending, preparing, running, completed, failed or cancelled."
        );
    }
}
