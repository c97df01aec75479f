<?php

use App\Jobs\DemoJob;
use App\Workers\DemoWorker;
use Illuminate\Support\Facades\Artisan;
use Illuminate\Support\Facades\Queue;
use Seiger\sTask\Facades\sTask;

// The host's own scheduled command (see App\Console\Kernel::schedule()).
Artisan::command('host:ping', function () {
    $this->info('pong');
})->purpose('The host application\'s own scheduled command');

// Registers and activates App\Workers\DemoWorker, then queues n tasks.
// --sleep: milliseconds each task sleeps; --fail: the tasks throw.
Artisan::command('demo:enqueue {n=1} {--sleep=0} {--fail}', function ($n) {
    sTask::registerWorker(DemoWorker::class);
    sTask::activateWorker(DemoWorker::IDENTIFIER);
    $ids = [];
    for ($i = 0; $i < (int) $n; $i++) {
        $task = sTask::create(DemoWorker::IDENTIFIER, 'run', [
            'i' => $i,
            'sleep_ms' => (int) $this->option('sleep'),
            'fail' => (bool) $this->option('fail'),
        ]);
        $ids[] = $task->id;
    }
    $this->line('queued ' . implode(',', $ids));
})->purpose('Queue demo tasks');

// Dispatches App\Jobs\DemoJob on the default queue connection.
// --fail: the job throws; --tries: its $tries (Laravel's maxTries).
Artisan::command('demo:dispatch {marker=done} {--fail} {--tries=}', function ($marker) {
    $tries = $this->option('tries');
    DemoJob::dispatch((string) $marker, (bool) $this->option('fail'), $tries === null ? null : (int) $tries);
    $this->line('dispatched');
})->purpose('Dispatch the demo Laravel job');

// Pushes n App\Jobs\DemoJob (markers bulk-0, bulk-1, ...) with one
// Queue::bulk() on the default queue connection; prints the job ids as JSON.
Artisan::command('demo:bulk {n=3} {--tries=}', function ($n) {
    $tries = $this->option('tries');
    $jobs = [];
    for ($i = 0; $i < (int) $n; $i++) {
        $jobs[] = new DemoJob("bulk-$i", false, $tries === null ? null : (int) $tries);
    }
    $this->line('bulk ' . json_encode(Queue::bulk($jobs)));
})->purpose('Push demo Laravel jobs in bulk');

// The manager menu as EvolutionCMS\Controllers\Frame::makeMenu() builds it:
// OnManagerMenuPrerender gets the menu, and each non-null result (a
// serialized array) replaces it. --role logs a manager user in first (its
// permissions come from role_permissions). Prints JSON {results, menu}.
Artisan::command('demo:menu {--role=} {--user=1}', function () {
    if ($this->option('role') !== null) {
        evo()->loginManager((int) $this->option('user'), (int) $this->option('role'));
    }
    $menu = [
        'site' => ['site', 'main', 'Home', 'index.php?a=2', 'Home', '', '', 'main', 0, 10, 'active'],
        'tools' => ['tools', 'main', 'Tools', 'javascript:;', 'Tools', ' return false;', '', '', 0, 50, ''],
        'refresh_site' => ['refresh_site', 'tools', 'Clear cache', 'index.php?a=26', 'Clear cache', '', '', 'main', 0, 5, ''],
    ];
    $results = evo()->invokeEvent('OnManagerMenuPrerender', ['menu' => $menu]);
    if (is_array($results)) {
        $new = [];
        foreach ($results as $result) {
            $data = unserialize($result, ['allowed_classes' => false]);
            if (is_array($data)) {
                foreach ($data as $key => $value) {
                    $new[$key] = $value;
                }
            }
        }
        if ($new !== []) {
            $menu = $new;
        }
    }
    $this->line(json_encode(['results' => is_array($results) ? count($results) : 0, 'menu' => $menu]));
})->purpose('Build the manager menu through OnManagerMenuPrerender');

// What the package set in cms.settings, seen through the Evolution shim.
Artisan::command('demo:config', function () {
    $this->line(json_encode([
        'check_sTask' => evo()->getConfig('check_sTask'),
        'sTaskVer' => evo()->getConfig('sTaskVer'),
        'site_name' => evo()->getConfig('site_name'),
        'missing' => evo()->getConfig('no_such_setting', 'fallback'),
        'concurrency' => config('stask.concurrency'),
        'extension' => phpversion('stask'),
        'facade' => sTask::version(),
    ]));
})->purpose('Print the sTask settings');
