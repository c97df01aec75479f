<?php

use App\Jobs\DemoJob;
use App\Workers\DemoWorker;
use Illuminate\Support\Facades\Artisan;
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
Artisan::command('demo:dispatch {marker=done}', function ($marker) {
    DemoJob::dispatch((string) $marker);
    $this->line('dispatched');
})->purpose('Dispatch the demo Laravel job');

// What the package set in cms.settings, seen through the Evolution shim.
Artisan::command('demo:config', function () {
    $this->line(json_encode([
        'check_sTask' => evo()->getConfig('check_sTask'),
        'sTaskVer' => evo()->getConfig('sTaskVer'),
        'extension' => phpversion('stask'),
        'facade' => sTask::version(),
    ]));
})->purpose('Print the sTask settings');
