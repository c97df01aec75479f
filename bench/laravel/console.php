<?php

// Artisan commands and hooks of the benchmark app (required from
// routes/console.php of a copy of tests/laravel; see bench/laravel_queue.sh).

use App\Jobs\NoopJob;
use App\Workers\NoopWorker;
use Illuminate\Queue\Events\JobExceptionOccurred;
use Illuminate\Queue\Events\JobProcessed;
use Illuminate\Queue\Events\Looping;
use Illuminate\Queue\Events\WorkerStopping;
use Illuminate\Support\Facades\Artisan;
use Illuminate\Support\Facades\DB;
use Illuminate\Support\Facades\Event;
use Seiger\sTask\Facades\sTask;

// The harness app lists no RedisServiceProvider; the redis queue leg needs it.
if (!app()->bound('redis')) {
    app()->register(\Illuminate\Redis\RedisServiceProvider::class);
}

// Laravel on SQLite: WAL (kept in the file) and synchronous=NORMAL (per
// connection), the settings the stask engine uses for its own connection.
if (config('database.default') === 'sqlite') {
    DB::connection()->getPdo()->exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;');
}

/** Appends "<pid> <loop start> <loop end> <processed> <errors>" to $BENCH_WINDOW_FILE. */
function bench_window(float $start, float $end, int $processed, int $errors = 0): void
{
    $file = getenv('BENCH_WINDOW_FILE');
    if ($file) {
        file_put_contents($file, sprintf("%d %.6f %.6f %d %d\n", getmypid(), $start, $end, $processed, $errors), FILE_APPEND | LOCK_EX);
    }
}

// queue:work's loop window: from its first iteration to WorkerStopping
// (--stop-when-empty), so process start-up is not counted (as for stask).
if (getenv('BENCH_WINDOW_FILE')) {
    $window = ['start' => null, 'processed' => 0, 'errors' => 0];
    Event::listen(Looping::class, static function () use (&$window): void {
        $window['start'] ??= microtime(true);
    });
    Event::listen(JobProcessed::class, static function () use (&$window): void {
        $window['processed']++;
    });
    Event::listen(JobExceptionOccurred::class, static function () use (&$window): void {
        $window['errors']++;
    });
    Event::listen(WorkerStopping::class, static function () use (&$window): void {
        bench_window($window['start'] ?? microtime(true), microtime(true), $window['processed'], $window['errors']);
    });
}

// Enqueue through Laravel: N no-op jobs on the default queue connection.
Artisan::command('bench:dispatch {n}', function ($n) {
    $n = (int) $n;
    $t = microtime(true);
    for ($i = 0; $i < $n; $i++) {
        NoopJob::dispatch();
    }
    $secs = microtime(true) - $t;
    $this->line(sprintf('dispatched %d in %.6f s', $n, $secs));
});

// Bulk enqueue through Laravel: N no-op jobs by Queue::bulk() in calls of
// {chunk} on the default queue connection (redis: one pipelined MULTI per
// call; stask: one sTask::createMany per call).
Artisan::command('bench:bulk {n} {chunk=1000}', function ($n, $chunk) {
    $n = (int) $n;
    $chunk = max(1, (int) $chunk);
    $queue = \Illuminate\Support\Facades\Queue::connection();
    $t = microtime(true);
    for ($i = 0; $i < $n; $i += $chunk) {
        $jobs = [];
        for ($k = $i; $k < min($n, $i + $chunk); $k++) {
            $jobs[] = new NoopJob();
        }
        $queue->bulk($jobs);
    }
    $secs = microtime(true) - $t;
    $this->line(sprintf('bulked %d in %.6f s', $n, $secs));
});

// Enqueue through stask: N no-op tasks with sTask::create.
Artisan::command('bench:create {n}', function ($n) {
    sTask::registerWorker(NoopWorker::class);
    sTask::activateWorker(NoopWorker::IDENTIFIER);
    $n = (int) $n;
    $t = microtime(true);
    for ($i = 0; $i < $n; $i++) {
        sTask::create(NoopWorker::IDENTIFIER, 'noop');
    }
    $secs = microtime(true) - $t;
    $this->line(sprintf('created %d in %.6f s', $n, $secs));
});

// The stask worker loop until the queue is empty (what stask:worker --once
// runs), timed around sTask::work() like queue:work's loop above.
Artisan::command('bench:stask-work', function () {
    $t = microtime(true);
    $counters = sTask::work(['stop_when_empty' => true]);
    bench_window($t, microtime(true), (int) $counters['processed'], (int) $counters['failed'] + (int) $counters['retried']);
    $this->line(json_encode($counters));
});
