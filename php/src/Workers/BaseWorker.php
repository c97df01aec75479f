<?php

declare(strict_types=1);

namespace Seiger\sTask\Workers;

use Seiger\sTask\Contracts\TaskInterface;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Models\sWorker;

/**
 * The class workers extend.
 *
 * It is written in PHP, not in the extension, because PHP subclasses of
 * native classes are not dependable in ext-php-rs. It only adapts: settings
 * come from the worker's `s_workers` row, tasks are created and updated
 * through the models, progress goes through the native
 * `sTaskModel::pushProgress()`. There is no SQL here and no file writing.
 *
 * Public and protected members keep the names and signatures of the PHP
 * sTask 2.x BaseWorker, so workers written for it run unchanged.
 */
abstract class BaseWorker implements TaskInterface
{
    /**
     * This worker's row in `s_workers`, or null while it is not registered
     * (native models cannot be created with `new`, so there is no unsaved
     * stand-in; settings then live in {@see $detachedSettings}).
     */
    protected ?sWorker $worker = null;

    /** Settings of a worker that has no row yet; never persisted. */
    private array $detachedSettings = [];

    /** What getSchedule() returns for a worker that has no schedule stored. */
    private const SCHEDULE_DEFAULTS = [
        'type' => 'manual',
        'enabled' => false,
        'datetime' => null,
        'time' => null,
        'frequency' => 'hourly',
        'days' => [],
        'start_time' => null,
        'end_time' => null,
        'interval' => 'hourly',
        'expression' => null,
        'missed' => 'skip',
    ];

    /** Minutes between runs of a `regular` schedule, by interval name. */
    private const REGULAR_INTERVALS = [
        'every_5min' => 5,
        'every_15min' => 15,
        'every_30min' => 30,
        'hourly' => 60,
    ];

    public function __construct()
    {
        $this->worker = sWorker::where('identifier', $this->identifier())->first();
    }

    // ---------------------------------------------------------------- identity

    /** Package or module the worker belongs to; shown as its group. */
    public function scope(): string
    {
        return 'stask';
    }

    public function icon(): string
    {
        return '<i class="fa fa-cog"></i>';
    }

    /** "product_sync" becomes "Product Sync". */
    public function title(): string
    {
        return ucwords(str_replace(['_', '-'], ' ', $this->identifier()));
    }

    public function description(): string
    {
        return '';
    }

    /**
     * A small card with one run button per declared action (public task*
     * methods), which the admin script binds to.
     */
    public function renderWidget(): string
    {
        $e = static fn (string $s): string => htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
        $identifier = $e($this->identifier());
        $title = $e($this->title());
        $description = $this->description() === ''
            ? ''
            : "\n    <p class=\"stask-widget__description\">" . $e($this->description()) . '</p>';
        $buttons = '';
        foreach ($this->declaredActions() as $action) {
            $label = $e(ucwords(str_replace('_', ' ', $action)));
            $action = $e($action);
            $buttons .= "\n    <button type=\"button\" class=\"btn btn-primary stask-widget__run\" data-stask-identifier=\"{$identifier}\" data-stask-action=\"{$action}\">{$label}</button>";
        }

        // icon() is HTML by contract (TaskInterface), so it is not escaped.
        return <<<HTML
<div class="stask-widget" data-stask-worker="{$identifier}">
    <h4 class="stask-widget__title">{$this->icon()} {$title}</h4>{$description}
    <p class="stask-widget__identifier"><code>{$identifier}</code></p>{$buttons}
</div>
HTML;
    }

    /**
     * The actions this worker answers to: its public task* methods, named
     * as the API and the admin module name them (taskSyncStock: sync_stock).
     *
     * @return list<string>
     */
    public function declaredActions(): array
    {
        $actions = [];
        foreach ((new \ReflectionClass($this))->getMethods(\ReflectionMethod::IS_PUBLIC) as $method) {
            if ($method->isStatic() || !preg_match('/^task([A-Z].*)$/', $method->getName(), $m)) {
                continue;
            }
            $actions[] = strtolower(preg_replace('/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/', '_', $m[1]));
        }
        sort($actions);

        return array_values(array_unique($actions));
    }

    // ---------------------------------------------------------------- settings

    /** The stored settings (a snapshot of the row as loaded). */
    public function settings(): array
    {
        if ($this->worker === null) {
            return $this->detachedSettings;
        }
        $settings = $this->worker->settings;

        return is_array($settings) ? $settings : [];
    }

    /** `getConfig('api.timeout', 30)`: dot notation into settings(). */
    public function getConfig(string $key, $default = null)
    {
        $value = $this->settings();
        foreach (explode('.', $key) as $segment) {
            if (!is_array($value) || !array_key_exists($segment, $value)) {
                return $default;
            }
            $value = $value[$segment];
        }

        return $value;
    }

    /**
     * `setConfig('api.timeout', 60)`: creates intermediate arrays, replacing
     * a scalar in the way. Persisted only when the worker has a row.
     */
    public function setConfig(string $key, $value): void
    {
        $segments = explode('.', $key);
        $top = $segments[0];
        $settings = $this->settings();

        $node = &$settings;
        foreach ($segments as $segment) {
            if (!is_array($node)) {
                $node = [];
            }
            $node = &$node[$segment];
        }
        $node = $value;
        unset($node);

        $this->persistSettings([$top => $settings[$top]]);
    }

    /** Shallow merge of top-level keys into settings. */
    public function updateConfig(array $config): void
    {
        $this->persistSettings($config);
    }

    /** Merges top-level keys into the row (or the detached settings). */
    private function persistSettings(array $changes): void
    {
        if ($this->worker === null) {
            $this->detachedSettings = array_merge($this->detachedSettings, $changes);

            return;
        }
        $this->worker->updateSettings($changes);
    }

    // ---------------------------------------------------------------- schedule

    /**
     * The stored schedule over the defaults: type manual, disabled.
     * Keys: type (manual|once|periodic|regular), enabled, datetime, time,
     * frequency, days, start_time, end_time, interval.
     */
    public function getSchedule(): array
    {
        $stored = $this->getConfig('schedule', []);

        return is_array($stored) ? array_merge(self::SCHEDULE_DEFAULTS, $stored) : self::SCHEDULE_DEFAULTS;
    }

    /**
     * Whether the schedule says "now", in application time (`now()` when the
     * host defines it). A worker may call this in taskMake() to skip runs
     * started outside its schedule.
     *
     * - once: within 30 seconds after `datetime`;
     * - periodic: the minute of `time` ("HH:MM" or "*:MM") is the current
     *   minute, and frequency hourly (hour "*"), daily (hour matches) or
     *   weekly (hour matches and today is in `days`, e.g. "monday");
     * - regular: between start_time and end_time (inclusive, a window may
     *   cross midnight) on a minute the interval divides;
     * - cron: a slot of the expression fell within the last minute (the
     *   engine parses it: sTask::scheduleIsDue()).
     */
    public function shouldRunNow(): bool
    {
        $schedule = $this->getSchedule();
        if (!filter_var($schedule['enabled'], FILTER_VALIDATE_BOOL)) {
            return false;
        }
        $now = $this->currentTime();

        return match ((string) $schedule['type']) {
            'once' => $this->onceIsDue($schedule, $now),
            'periodic' => $this->periodicIsDue($schedule, $now),
            'regular' => $this->regularIsDue($schedule, $now),
            'cron' => sTask::scheduleIsDue($schedule),
            default => false,
        };
    }

    /** Application time: the host's now() (Carbon, app timezone) if any. */
    protected function currentTime(): \DateTimeImmutable
    {
        if (function_exists('now')) {
            $now = now();
            if ($now instanceof \DateTimeInterface) {
                return \DateTimeImmutable::createFromInterface($now);
            }
        }

        return new \DateTimeImmutable();
    }

    private function onceIsDue(array $schedule, \DateTimeImmutable $now): bool
    {
        if (empty($schedule['datetime'])) {
            return false;
        }
        try {
            $at = new \DateTimeImmutable((string) $schedule['datetime'], $now->getTimezone());
        } catch (\Exception) {
            return false;
        }
        $late = $now->getTimestamp() - $at->getTimestamp();

        return $late >= 0 && $late <= 30;
    }

    private function periodicIsDue(array $schedule, \DateTimeImmutable $now): bool
    {
        if (!preg_match('/^(\*|\d{1,2}):(\d{2})$/', trim((string) $schedule['time']), $m)) {
            return false;
        }
        [, $hour, $minute] = $m;
        if ((int) $minute !== (int) $now->format('i')) {
            return false;
        }
        $hourMatches = $hour !== '*' && (int) $hour === (int) $now->format('G');

        return match ((string) $schedule['frequency']) {
            'hourly' => $hour === '*',
            'daily' => $hourMatches,
            'weekly' => $hourMatches
                && in_array(strtolower($now->format('l')), array_map('strtolower', (array) $schedule['days']), true),
            default => false,
        };
    }

    private function regularIsDue(array $schedule, \DateTimeImmutable $now): bool
    {
        $start = $this->minuteOfDay($schedule['start_time']);
        $end = $this->minuteOfDay($schedule['end_time']);
        $every = self::REGULAR_INTERVALS[(string) $schedule['interval']] ?? null;
        if ($start === null || $end === null || $every === null) {
            return false;
        }
        $current = (int) $now->format('G') * 60 + (int) $now->format('i');
        $inWindow = $start <= $end
            ? $current >= $start && $current <= $end
            : $current >= $start || $current <= $end;

        return $inWindow && (int) $now->format('i') % $every === 0;
    }

    /** "09:30" -> 570; null for anything that is not a time of day. */
    private function minuteOfDay($time): ?int
    {
        if (!is_string($time) || !preg_match('/^(\d{1,2}):(\d{2})$/', trim($time), $m)) {
            return null;
        }
        [, $h, $i] = $m;
        if ((int) $h > 23 || (int) $i > 59) {
            return null;
        }

        return (int) $h * 60 + (int) $i;
    }

    // ---------------------------------------------------------------- tasks

    /**
     * Queues a task for this worker. With $options null the request's
     * `options` field is used when the host has a request() helper (as the
     * run endpoint does), else no options.
     */
    public function createTask(string $action, ?array $options = null): sTaskModel
    {
        $options ??= $this->optionsFromRequest();
        $userId = function_exists('evo') ? (int) (evo()->getLoginUserID() ?: 0) : 0;

        $task = sTask::create($this->identifier(), $action, $options, 'normal', $userId);
        $task->update(['message' => '_Task queued..._']);

        return $task;
    }

    private function optionsFromRequest(): array
    {
        if (!function_exists('request')) {
            return [];
        }
        $request = request();
        $options = $request->input('options', []);
        $options = is_array($options) ? $options : [];
        $filename = $request->input('filename');
        if ($filename !== null && $filename !== '') {
            $options['filename'] = $filename;
        }

        return $options;
    }

    /**
     * Runs `task{Action}($task, $options)`. Only public methods count as
     * actions, so helpers named task* stay unreachable from a request.
     *
     * @throws \Seiger\sTask\Exceptions\ActionNotFoundException (a \BadMethodCallException)
     *         when the worker has no such action: the engine fails the task at once
     */
    public function invokeAction(string $action, sTaskModel $task, array $options = []): void
    {
        // The answer for a class and an action never changes within a
        // process: worked out once (a regex split and a reflection per task
        // showed in the profile of fast queues).
        $method = self::$actionMethods[static::class][$action] ??= $this->actionMethodFor($action);
        if ($method === null) {
            throw new \Seiger\sTask\Exceptions\ActionNotFoundException(static::class . ' missing action method ' . $this->resolveActionMethod($action) . '()');
        }
        $observer = self::$observer;
        if ($observer === null) {
            $this->{$method}($task, $options);

            return;
        }
        $started = hrtime(true);
        try {
            $this->{$method}($task, $options);
        } catch (\Throwable $e) {
            $observer($task, $action, (hrtime(true) - $started) / 1e9, $e);

            throw $e;
        }
        $observer($task, $action, (hrtime(true) - $started) / 1e9, null);
    }

    /** @var (callable(sTaskModel, string, float, ?\Throwable): void)|null */
    private static $observer = null;

    /** @var array<class-string, array<string, string|null>> class => action => method (null: none) */
    private static array $actionMethods = [];

    /**
     * Calls $observer($task, $action, $seconds, $error) after each action
     * this process runs (null turns it off). `stask:worker -v` uses it to
     * print one line per task; the engine still decides what happens next.
     */
    public static function observe(?callable $observer): void
    {
        self::$observer = $observer;
    }

    /** `sync_stock` -> `taskSyncStock`, `import-csv` -> `taskImportCsv`. */
    protected function resolveActionMethod(string $action): string
    {
        $words = preg_split('/[-_\s]+/', strtolower(trim($action)), -1, PREG_SPLIT_NO_EMPTY) ?: [];

        return 'task' . implode('', array_map('ucfirst', $words));
    }

    private function actionMethodFor(string $action): ?string
    {
        $method = $this->resolveActionMethod($action);

        return $this->isActionMethod($method) ? $method : null;
    }

    private function isActionMethod(string $method): bool
    {
        if ($method === 'task' || !method_exists($this, $method)) {
            return false;
        }
        $reflection = new \ReflectionMethod($this, $method);

        return $reflection->isPublic() && !$reflection->isStatic();
    }

    // ---------------------------------------------------------------- progress

    /**
     * Reports progress: keys status, progress, processed, total, eta,
     * message. The extension writes the `storage/stask/{id}.json` snapshot
     * (throttled) and mirrors it to the row.
     *
     * @throws \Seiger\sTask\Exceptions\TaskCancelledException when the task
     *         was cancelled meanwhile; let it propagate to stop the worker.
     */
    protected function pushProgress(sTaskModel $task, array $delta = []): void
    {
        $task->pushProgress($delta);
    }

    /** Completes the task: status 30, progress 100, result (a file path by convention). */
    protected function markFinished(sTaskModel $task, ?string $result = null, ?string $message = null): void
    {
        $message ??= 'Done';
        $task->update([
            'status' => sTaskModel::TASK_STATUS_COMPLETED,
            'progress' => 100,
            'result' => $result,
            'message' => $message,
            'finished_at' => new \DateTimeImmutable(),
        ]);
        $this->pushProgress($task, ['status' => 'completed', 'progress' => 100, 'message' => $message]);
    }

    /** Fails the task for good (no retry): status 40 with the reason. */
    protected function markFailed(sTaskModel $task, string $message): void
    {
        $task->update([
            'status' => sTaskModel::TASK_STATUS_FAILED,
            'message' => $message,
            'finished_at' => new \DateTimeImmutable(),
        ]);
        $this->pushProgress($task, ['status' => 'failed', 'message' => $message]);
    }
}
