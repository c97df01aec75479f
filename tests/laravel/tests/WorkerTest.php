<?php

namespace Tests;

use Symfony\Component\Process\Process;

/** Tasks, workers, the schedule, the queue connector and the commands. */
class WorkerTest extends HarnessTestCase
{
    private const COMPLETED = 30;
    private const FAILED = 40;
    private const CANCELLED = 50;

    private function enqueue(int $n, array $options = []): array
    {
        $output = $this->artisanOk(array_merge(['demo:enqueue', (string) $n], $options));
        $this->assertMatchesRegularExpression('/queued ([\d,]+)/', $output);
        preg_match('/queued ([\d,]+)/', $output, $m);

        return array_map('intval', explode(',', $m[1]));
    }

    private function statuses(): array
    {
        $statuses = [];
        foreach ($this->rows('s_tasks') as $row) {
            $statuses[(int) $row['id']] = (int) $row['status'];
        }

        return $statuses;
    }

    public function testWorkerOnceFinishesTasks(): void
    {
        $this->migrate();
        $ids = $this->enqueue(3);
        $this->assertSame(array_fill_keys($ids, 10), $this->statuses());

        $output = $this->artisanOk(['stask:worker', '--once'], [], 30);
        $this->assertStringContainsString('processed 3 tasks (completed 3', $output);
        $this->assertSame(array_fill_keys($ids, self::COMPLETED), $this->statuses());
        $this->assertCount(3, $this->ledger());
        $worker = $this->rows('s_workers', 'identifier = ?', ['demo']);
        $this->assertCount(1, $worker);
        $this->assertSame('App\\Workers\\DemoWorker', $worker[0]['class']);
    }

    public function testWorkerShowsAProgressBarOnATerminal(): void
    {
        $this->migrate();
        $this->enqueue(3);
        // --ansi stands for a terminal; under cron (no terminal) there is no
        // bar. Symfony draws bars on stderr.
        $run = $this->artisan(['stask:worker', '--once', '--ansi'], [], 30);
        $this->assertSame(0, $run->getExitCode(), $this->describe($run));
        $this->assertMatchesRegularExpression('#0/3 \[[^\]]*\]\s+0%#', $run->getErrorOutput());
        $this->assertMatchesRegularExpression('#3/3 \[[^\]]+\] 100%#', $run->getErrorOutput());
        $this->assertStringContainsString('processed 3 tasks (completed 3', $run->getOutput());

        $this->enqueue(2);
        $plain = $this->artisan(['stask:worker', '--once'], [], 30);
        $this->assertSame(0, $plain->getExitCode(), $this->describe($plain));
        $this->assertStringNotContainsString('%', $plain->getOutput() . $plain->getErrorOutput());
        $this->assertStringContainsString('processed 2 tasks (completed 2', $plain->getOutput());
    }

    /** --once with child processes: every loop stops when nothing is due, and each reports its tasks. */
    public function testOnceWithConcurrencyStopsWhenEmpty(): void
    {
        $this->migrate();
        $ids = $this->enqueue(6, ['--sleep=200']);
        // With a 10-minute budget, only stopping when empty ends this within the process timeout.
        $output = $this->artisanOk(['stask:worker', '--once', '--concurrency=2', '--max-time=600', '-v'], [], 60);

        $this->assertSame(array_fill_keys($ids, self::COMPLETED), $this->statuses());
        $this->assertSame(6, preg_match_all('/^#\d+ demo run completed \d+\.\d{3} s$/m', $output), $output);
        preg_match_all('/^processed (\d+) tasks \(completed \d+, failed 0, retried 0\) in [\d.]+ s, [\d.]+ tasks\/s$/m', $output, $m);
        $this->assertCount(2, $m[1], 'one line per child: ' . $output);
        $this->assertSame(6, array_sum(array_map('intval', $m[1])));
        $this->assertMatchesRegularExpression('/^supervised 2 worker processes \(replaced 0, killed for timeout 0, killed for cancel 0, released 0 tasks\) in [\d.]+ s$/m', $output);
        $ledger = $this->ledger();
        $this->assertCount(6, $ledger);
        $this->assertLessThanOrEqual(2, $this->maxConcurrent($ledger));
    }

    /**
     * `php -d extension=… artisan stask:worker` with no ini file that loads
     * the extension: the children get the flag (and the other -d settings)
     * from the supervisor and do the work.
     */
    public function testWorkerChildrenGetTheExtensionTheParentLoadedWithDashD(): void
    {
        $this->migrate();
        $ids = $this->enqueue(6);
        $worker = $this->withoutExtensionIni(['-d', 'memory_limit=200M', 'artisan', 'stask:worker', '--concurrency=2', '--max-time=6', '-v']);
        $worker->run();

        $this->assertSame(0, $worker->getExitCode(), $this->describe($worker));
        $all = $worker->getOutput() . $worker->getErrorOutput();
        $this->assertStringNotContainsString('needs the stask PHP extension', $all);
        $this->assertMatchesRegularExpression('/^supervised 2 worker processes \(replaced 0, /m', $all);
        $this->assertSame(array_fill_keys($ids, self::COMPLETED), $this->statuses());
        $this->assertCount(6, $this->ledger());
    }

    /**
     * Children that cannot boot (here: the copy's bootstrap refuses worker
     * children) make stask:worker and stask:work stop within seconds with a
     * non-zero exit code and the children's own words, instead of replacing
     * them until the time is up (or forever, for the daemon).
     */
    public function testWorkerCommandsWhoseChildrenCannotStartFailAndSayWhy(): void
    {
        $this->migrate();
        $ids = $this->enqueue(2);
        $app = $this->dir . '/bootstrap/app.php';
        file_put_contents($app, preg_replace('/^<\?php\n/', "<?php\nif (getenv('STASK_WORKER_CHILD') === '1') {\n    fwrite(STDERR, \"child cannot boot: bootstrap/cache is read-only\\n\");\n    exit(1);\n}\n", (string) file_get_contents($app), 1));

        foreach ([['stask:worker', '--concurrency=2', '--max-time=120'], ['stask:work', '--concurrency=2']] as $args) {
            $started = microtime(true);
            $run = $this->withoutExtensionIni(array_merge(['artisan'], $args), 100);
            $run->run();
            $all = $run->getOutput() . $run->getErrorOutput();

            $this->assertNotSame(0, $run->getExitCode(), $args[0] . ' exits non-zero: ' . $this->describe($run));
            $this->assertLessThan(60, microtime(true) - $started, $args[0] . ' gave up within seconds');
            $this->assertStringContainsString($args[0] . ': Worker processes keep failing at start-up', $all);
            $this->assertStringContainsString('exit code 1', $all);
            $this->assertStringContainsString('child cannot boot: bootstrap/cache is read-only', $all);
        }
        $this->assertSame(array_fill_keys($ids, 10), $this->statuses(), 'nothing was claimed');
    }

    /**
     * `php -d extension=<lib> $args` in the copy, with PHP's own ini files
     * only (run.sh's PHP_INI_SCAN_DIR, which loads the extension, replaced by
     * the default folder), as on a host where nothing in php.ini loads it.
     */
    private function withoutExtensionIni(array $args, float $timeout = 60): Process
    {
        $lib = realpath(getenv('STASK_EXTENSION') ?: self::APP . '/../../target/debug/libstask.so');
        $this->assertIsString($lib, 'the built extension');

        return new Process(
            array_merge([PHP_BINARY, '-d', 'extension=' . $lib], $args),
            $this->dir,
            $this->env(['PHP_INI_SCAN_DIR' => PHP_CONFIG_FILE_SCAN_DIR]),
            null,
            $timeout
        );
    }

    public function testScheduleRunStartsTheWorker(): void
    {
        $this->migrate();
        $ids = $this->enqueue(2);

        $this->artisanOk(['schedule:run'], [], 30);
        $done = $this->waitFor(
            fn () => $this->statuses() === array_fill_keys($ids, self::COMPLETED),
            20
        );
        $this->assertTrue((bool) $done, 'tasks completed by the scheduled worker: ' . json_encode($this->statuses()));
        // The worker ran as its own process, not inside schedule:run.
        $this->assertCount(2, $this->ledger());
    }

    public function testOverlappingWorkersRunEachTaskOnce(): void
    {
        $this->migrate();
        $ids = $this->enqueue(20, ['--sleep=100']);

        $a = $this->start(['stask:worker', '--once'], [], 60);
        $b = $this->start(['stask:worker', '--once'], [], 60);
        $a->wait();
        $b->wait();
        $this->assertSame(0, $a->getExitCode(), $this->describe($a));
        $this->assertSame(0, $b->getExitCode(), $this->describe($b));

        $ledger = $this->ledger();
        $ran = array_map(static fn ($line) => (int) $line[0], $ledger);
        sort($ran);
        $this->assertSame($ids, $ran, 'every task ran exactly once');
        $this->assertSame(array_fill_keys($ids, self::COMPLETED), $this->statuses());
        // The default concurrency is 1: the second run found the slot taken.
        $this->assertSame(1, $this->maxConcurrent($ledger));
        $this->assertCount(1, array_unique(array_column($ledger, 1)), 'one worker process ran them all');
    }

    /**
     * Cron ticks that overlap: three schedule:run calls, each starting
     * stask:worker in the background while the previous one still works,
     * with the configured concurrency 2. No task runs twice and at no
     * instant do more than 2 run (ledger start/end times).
     */
    public function testOverlappingScheduleRunsKeepTheConfiguredConcurrency(): void
    {
        $this->migrate();
        $ids = $this->enqueue(16, ['--sleep=250']);
        $env = ['STASK_CONCURRENCY' => '2'];

        $ticks = [];
        foreach ([0, 1, 2] as $i) {
            $ticks[] = $this->start(['schedule:run'], $env, 30);
            if ($i === 0) {
                $this->assertTrue((bool) $this->waitFor(fn () => count($this->started()) > 0, 20), 'the first tick started working');
            }
        }
        foreach ($ticks as $tick) {
            $tick->wait();
            $this->assertSame(0, $tick->getExitCode(), $this->describe($tick));
            $this->assertStringContainsString('stask:worker', $tick->getOutput(), $this->describe($tick));
        }
        $done = $this->waitFor(fn () => $this->statuses() === array_fill_keys($ids, self::COMPLETED), 40);
        $this->assertTrue((bool) $done, 'all completed: ' . json_encode($this->statuses()));

        $ledger = $this->ledger();
        $ran = array_map(static fn ($line) => (int) $line[0], $ledger);
        sort($ran);
        $this->assertSame($ids, $ran, 'every task ran exactly once');
        $this->assertCount(16, $this->started(), 'no task started twice');
        $this->assertSame(2, $this->maxConcurrent($ledger), 'two loops at most (and the configured two were used)');
        foreach ($this->rows('s_tasks') as $row) {
            $this->assertEquals(1, $row['attempts'], "task {$row['id']} took one attempt");
        }
    }

    public function testOverlappingDaemonsRunEachTaskOnce(): void
    {
        $this->migrate();
        $ids = $this->enqueue(20, ['--sleep=100']);

        $a = $this->start(['stask:work', '--sleep=0.1'], [], 60);
        $b = $this->start(['stask:work', '--sleep=0.1'], [], 60);
        $done = $this->waitFor(fn () => $this->statuses() === array_fill_keys($ids, self::COMPLETED), 30);
        $this->assertTrue((bool) $done, 'all completed: ' . json_encode($this->statuses()));
        $a->signal(SIGTERM);
        $b->signal(SIGTERM);
        $a->wait();
        $b->wait();
        $this->assertSame(0, $a->getExitCode(), $this->describe($a));
        $this->assertSame(0, $b->getExitCode(), $this->describe($b));

        $ledger = $this->ledger();
        $ran = array_map(static fn ($line) => (int) $line[0], $ledger);
        sort($ran);
        $this->assertSame($ids, $ran, 'every task ran exactly once');
        $pids = array_unique(array_map(static fn ($line) => $line[1], $ledger));
        $this->assertCount(2, $pids, 'both daemons took tasks');
    }

    public function testSigtermDrainsTheDaemon(): void
    {
        $this->migrate();
        [$id] = $this->enqueue(1, ['--sleep=1000']);

        $work = $this->start(['stask:work', '--sleep=0.2'], [], 60);
        $started = $this->waitFor(fn () => count($this->started()) === 1, 15);
        $this->assertTrue((bool) $started, 'task started: ' . $this->describe($work));
        $this->assertSame([], $this->ledger(), 'still running when the signal is sent');
        $signalled = microtime(true);
        $work->signal(SIGTERM);
        $work->wait();

        $this->assertSame(0, $work->getExitCode(), $this->describe($work));
        $this->assertSame([$id => self::COMPLETED], $this->statuses());
        $ledger = $this->ledger();
        $this->assertCount(1, $ledger, 'the running task finished its run');
        $this->assertGreaterThan($signalled, (float) $ledger[0][3], 'it finished after SIGTERM: drained, not killed');
        $this->assertStringContainsString('processed 1 tasks (completed 1', $work->getOutput());
    }

    public function testLaravelQueueJobRunsThroughTheEngine(): void
    {
        $this->migrate();
        $env = ['QUEUE_CONNECTION' => 'stask'];
        $this->artisanOk(['demo:dispatch', 'hello'], $env);
        $this->assertFileDoesNotExist($this->dir . '/storage/demo-job.txt', 'not run synchronously');

        $tasks = $this->rows('s_tasks', 'identifier = ?', ['laravel_queue']);
        $this->assertCount(1, $tasks);
        $this->assertEquals(10, $tasks[0]['status']);

        $this->artisanOk(['stask:worker', '--once'], $env, 30);
        $this->assertStringEqualsFile($this->dir . '/storage/demo-job.txt', "hello\n");
        $tasks = $this->rows('s_tasks', 'identifier = ?', ['laravel_queue']);
        $this->assertEquals(self::COMPLETED, $tasks[0]['status']);
        $this->assertSame('handle', $tasks[0]['action']);
        // The job's end is recorded once, by the engine: its message, progress
        // 100, and no progress snapshot for a job that reported none.
        $this->assertSame('App\\Jobs\\DemoJob done.', $tasks[0]['message']);
        $this->assertEquals(100, $tasks[0]['progress']);
        $this->assertNotNull($tasks[0]['finished_at']);
        $this->assertFileDoesNotExist($this->dir . '/storage/stask/' . $tasks[0]['id'] . '.json');
    }

    /** Queue::bulk() on the stask connection: one createMany() call, every job a task the engine runs. */
    public function testQueueBulkQueuesEveryJobAsATaskAndTheEngineRunsThem(): void
    {
        $this->migrate();
        $env = ['QUEUE_CONNECTION' => 'stask'];
        $output = $this->artisanOk(['demo:bulk', '5', '--tries=4'], $env);
        $this->assertMatchesRegularExpression('/bulk (\[[\d,]*\])/', $output);
        preg_match('/bulk (\[[\d,]*\])/', $output, $m);
        $ids = json_decode($m[1], true);
        $this->assertCount(5, $ids);

        $tasks = $this->rows('s_tasks', 'identifier = ?', ['laravel_queue']);
        $this->assertSame($ids, array_map(fn ($t) => (int) $t['id'], $tasks), 'the job ids are the tasks, in order');
        foreach ($tasks as $i => $task) {
            $this->assertEquals(10, $task['status']);
            $this->assertSame('handle', $task['action']);
            $this->assertEquals(4, $task['max_attempts'], 'the job\'s $tries became max_attempts');
            $meta = json_decode((string) $task['meta'], true);
            $this->assertSame('default', $meta['queue']);
            $this->assertStringContainsString("bulk-$i", $meta['payload']);
        }
        $this->assertFileDoesNotExist($this->dir . '/storage/demo-job.txt', 'not run synchronously');

        $this->artisanOk(['stask:worker', '--once'], $env, 60);
        $lines = file($this->dir . '/storage/demo-job.txt', FILE_IGNORE_NEW_LINES);
        sort($lines);
        $this->assertSame(['bulk-0', 'bulk-1', 'bulk-2', 'bulk-3', 'bulk-4'], $lines);
        $done = $this->rows('s_tasks', 'identifier = ?', ['laravel_queue']);
        $this->assertSame([self::COMPLETED], array_values(array_unique(array_map(fn ($t) => (int) $t['status'], $done))));
    }

    /** A job that throws: retried by the engine, then failed, and its failed() hook runs once. */
    public function testFailingLaravelJobIsRetriedThenFailed(): void
    {
        $this->migrate();
        $env = ['QUEUE_CONNECTION' => 'stask', 'STASK_RETRY_BASE_DELAY' => '0.2'];
        $this->artisanOk(['demo:dispatch', 'boom', '--fail', '--tries=2'], $env);
        [$task] = $this->rows('s_tasks', 'identifier = ?', ['laravel_queue']);
        $this->assertEquals(2, $task['max_attempts'], 'the job\'s $tries became max_attempts');
        $jobLines = fn () => is_file($this->dir . '/storage/demo-job.txt') ? file($this->dir . '/storage/demo-job.txt', FILE_IGNORE_NEW_LINES) : [];

        // Attempt 1 throws: the task waits for its retry.
        $this->artisanOk(['stask:worker', '--once'], $env, 30);
        [$task] = $this->rows('s_tasks', 'id = ?', [$task['id']]);
        $this->assertEquals(10, $task['status'], json_encode($task));
        $this->assertEquals(1, $task['attempts']);
        $this->assertStringContainsString('demo job boom failed', (string) $task['last_error']);
        $this->assertSame(['boom'], $jobLines());
        $this->assertFileDoesNotExist($this->dir . '/storage/demo-job-failed.txt', 'not failed after the first attempt');

        // Attempt 2 (after the backoff) throws too: failed for good.
        $failed = $this->waitFor(function () use ($env, $task) {
            $this->artisanOk(['stask:worker', '--once'], $env, 30);
            [$row] = $this->rows('s_tasks', 'id = ?', [$task['id']]);

            return (int) $row['status'] === self::FAILED ? $row : null;
        }, 15);
        $this->assertIsArray($failed, 'failed after the second attempt');
        $this->assertEquals(2, $failed['attempts']);
        $this->assertSame(['boom', 'boom'], $jobLines(), 'ran twice, no more');
        $this->assertStringEqualsFile($this->dir . '/storage/demo-job-failed.txt', "boom: demo job boom failed\n");

        // Nothing runs it again.
        $this->artisanOk(['stask:worker', '--once'], $env, 30);
        $this->assertSame(['boom', 'boom'], $jobLines());
    }

    /** The engine's records reach the host's logger: one error record for a task that failed for good. */
    public function testAFailingTaskIsLoggedOnceThroughTheHostLogger(): void
    {
        $this->migrate();
        [$id] = $this->enqueue(1, ['--fail']);
        $env = ['STASK_RETRY_BASE_DELAY' => '0.1'];
        $failed = $this->waitFor(function () use ($env, $id) {
            $this->artisanOk(['stask:worker', '--once'], $env, 30);
            [$row] = $this->rows('s_tasks', 'id = ?', [$id]);

            return (int) $row['status'] === self::FAILED ? $row : null;
        }, 20);
        $this->assertIsArray($failed, 'the task failed after its attempts');

        $log = (string) @file_get_contents($this->dir . '/storage/logs/laravel.log');
        $errors = array_values(array_filter(explode("\n", $log), fn ($l) => str_contains($l, "task #{$id} ") && str_contains($l, '.ERROR:')));
        $this->assertCount(1, $errors, $log);
        $this->assertStringContainsString("task #{$id} (demo/run) failed after 3 attempt(s)", $errors[0]);
        $this->assertStringContainsString('"task":' . $id, $errors[0], 'the context names the task');
        $this->assertStringContainsString('demo failure', $errors[0]);
        $retries = array_filter(explode("\n", $log), fn ($l) => str_contains($l, "task #{$id} ") && str_contains($l, '.WARNING:'));
        $this->assertCount(2, $retries, 'one warning per retried attempt');

        // On the configured channel, from the configured level up.
        [$other] = $this->enqueue(1, ['--fail']);
        $env += ['STASK_LOG_CHANNEL' => 'stask_events', 'STASK_LOG_LEVEL' => 'error'];
        $this->waitFor(function () use ($env, $other) {
            $this->artisanOk(['stask:worker', '--once'], $env, 30);
            [$row] = $this->rows('s_tasks', 'id = ?', [$other]);

            return (int) $row['status'] === self::FAILED ? $row : null;
        }, 20);
        $events = (string) @file_get_contents($this->dir . '/storage/logs/stask-events.log');
        $lines = array_values(array_filter(explode("\n", $events), fn ($l) => str_contains($l, "task #{$other} ")));
        $this->assertCount(1, $lines, $events);
        $this->assertStringContainsString('.ERROR:', $lines[0]);
        $this->assertStringNotContainsString("task #{$other} ", (string) @file_get_contents($this->dir . '/storage/logs/laravel.log'));
    }

    public function testCommandsOutput(): void
    {
        $this->migrate();
        $this->assertStringContainsString('No tasks.', $this->artisanOk(['stask:tasks']));

        [$ok] = $this->enqueue(1);
        [$failing] = $this->enqueue(1, ['--fail']);
        [$pending] = $this->enqueue(1);

        // Cancel one while pending, then run the rest, one line per task (-v).
        $this->assertStringContainsString("Task #{$pending} cancelled.", $this->artisanOk(['stask:cancel', (string) $pending]));
        $verbose = $this->artisanOk(['stask:worker', '--once', '-v'], [], 60);
        $this->assertMatchesRegularExpression("/^#{$ok} demo run completed \\d+\\.\\d{3} s$/m", $verbose);
        $this->assertMatchesRegularExpression("/^#{$failing} demo run retry \\(attempt 1\\/3: demo failure\\) \\d+\\.\\d{3} s$/m", $verbose);
        $this->assertStringNotContainsString("#{$pending} ", $verbose, 'the cancelled task did not run');
        $this->assertMatchesRegularExpression('/^processed 2 tasks \\(completed 1, failed 0, retried 1\\) in [\\d.]+ s, [\\d.]+ tasks\\/s$/m', $verbose);
        $this->assertSame(2, preg_match_all('/^#\\d+ /m', $verbose), $verbose);
        // Without -v: the throughput line only.
        $quiet = $this->artisanOk(['stask:worker', '--once'], [], 60);
        $this->assertMatchesRegularExpression('/\\Aprocessed 0 tasks \\(completed 0, failed 0, retried 0\\) in [\\d.]+ s, [\\d.]+ tasks\\/s\\z/', trim($quiet));
        $statuses = $this->statuses();
        $this->assertSame(self::COMPLETED, $statuses[$ok]);
        $this->assertSame(self::CANCELLED, $statuses[$pending]);

        $list = $this->artisanOk(['stask:tasks']);
        $this->assertMatchesRegularExpression("/\\|\\s*{$ok}\\s*\\|\\s*demo\\s*\\|\\s*run\\s*\\|\\s*completed/", $list);
        $this->assertStringContainsString('cancelled', $list);
        $this->assertStringContainsString('cancelled', $this->artisanOk(['stask:tasks', '--status=cancelled']));
        $this->assertStringNotContainsString('completed', $this->artisanOk(['stask:tasks', '--status=cancelled']));

        // Cancelling a finished task fails with a message and exit 1.
        $bad = $this->artisan(['stask:cancel', (string) $ok]);
        $this->assertSame(1, $bad->getExitCode(), $this->describe($bad));
        $this->assertStringContainsString("Task #{$ok} cannot be cancelled", $bad->getOutput() . $bad->getErrorOutput());
        $missing = $this->artisan(['stask:retry', '999']);
        $this->assertSame(1, $missing->getExitCode());
        $this->assertStringContainsString('Task #999 not found.', $missing->getOutput() . $missing->getErrorOutput());

        // Retry the cancelled one: it is pending again and then completes.
        $this->assertStringContainsString("Task #{$pending} queued for retry.", $this->artisanOk(['stask:retry', (string) $pending]));
        $this->assertSame(10, $this->statuses()[$pending]);
        $this->artisanOk(['stask:worker', '--once'], [], 60);
        $this->assertSame(self::COMPLETED, $this->statuses()[$pending]);

        // The failing task went back to pending with its attempt recorded.
        [$row] = $this->rows('s_tasks', 'id = ?', [$failing]);
        $this->assertEquals(10, $row['status']);
        $this->assertGreaterThanOrEqual(1, (int) $row['attempts']);
        $this->assertStringContainsString('demo failure', (string) $row['message']);
        // Its detail lists the failed attempt with its error and trace, and says
        // that no worker process is running to pick it up again.
        $detail = $this->artisanOk(['stask:tasks', "--id={$failing}"]);
        $this->assertStringContainsString("Task #{$failing}  demo/run  pending", $detail);
        $this->assertMatchesRegularExpression('/\\|\s*1\s*\\|\s*retried\s*\\|.*demo failure/', $detail);
        $this->assertStringContainsString('Attempt 1 trace:', $detail);
        $this->assertStringNotContainsString($this->dir, $detail, 'paths relative to the application');
        $this->assertStringContainsString('No worker process is running', $detail);
        $this->assertMatchesRegularExpression('/\\|\s*1\s*\\|\s*completed\s*\\|/', $this->artisanOk(['stask:tasks', "--id={$ok}"]));
        $none = $this->artisan(['stask:tasks', '--id=999']);
        $this->assertSame(1, $none->getExitCode(), $this->describe($none));
        $notRetryable = $this->artisan(['stask:retry', (string) $failing]);
        $this->assertSame(1, $notRetryable->getExitCode(), $this->describe($notRetryable));
        $this->assertStringContainsString('cannot be retried (it is pending)', $notRetryable->getOutput() . $notRetryable->getErrorOutput());

        $invalid = $this->artisan(['stask:prune', '--days=abc']);
        $this->assertSame(1, $invalid->getExitCode());

        // Deleting everything asks first; without a terminal it refuses.
        $refused = $this->artisan(['stask:prune', '--days=0']);
        $this->assertSame(1, $refused->getExitCode(), $this->describe($refused));
        $this->assertStringContainsString('--force', $refused->getOutput() . $refused->getErrorOutput());
        $this->assertArrayHasKey($ok, $this->statuses(), 'nothing pruned without --force');
        $declined = $this->process(['stask:prune', '--days=0'], ['SHELL_INTERACTIVE' => '1']);
        $declined->setInput("no\n");
        $declined->run();
        $this->assertSame(1, $declined->getExitCode(), $this->describe($declined));
        $this->assertStringContainsString('Nothing deleted', $declined->getOutput());
        $this->assertArrayHasKey($ok, $this->statuses(), 'nothing pruned when the answer is no');
        $prune = $this->artisanOk(['stask:prune', '--days=0', '--force']);
        $this->assertMatchesRegularExpression('/Deleted \d+ task\(s\) older than 0 day\(s\)\./', $prune);
        $this->assertArrayNotHasKey($ok, $this->statuses(), 'completed task pruned: ' . $prune);

        $discover = $this->artisanOk(['stask:discover']);
        $this->assertMatchesRegularExpression('/Discovered \d+ worker\(s\)/', $discover);
        $this->assertMatchesRegularExpression('/Rescanned \d+ worker\(s\)/', $discover);
        $this->assertMatchesRegularExpression('/Removed \d+ orphaned worker\(s\)\./', $discover);
        $this->assertCount(1, $this->rows('s_workers', 'identifier = ?', ['demo']), 'demo worker kept');
    }

    public function testOtherPrefix(): void
    {
        $this->prefix = 'alt' . substr(bin2hex(random_bytes(2)), 0, 3) . '_';
        $this->migrate();
        $tables = $this->tables();
        $this->assertContains($this->prefix . 's_tasks', $tables);
        $this->assertContains($this->prefix . 's_workers', $tables);
        if ($this->connection === 'sqlite') {
            $this->assertNotContains('evo_s_tasks', $tables);
        }
        $ids = $this->enqueue(2);
        $this->artisanOk(['stask:worker', '--once'], [], 30);
        $this->assertSame(array_fill_keys($ids, self::COMPLETED), $this->statuses());
        $this->assertCount(1, $this->rows('role_permissions', 'permission = ?', ['stask']));
    }
}
