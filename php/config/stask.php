<?php

// Merged into config('stask'); a host overrides it with its own config/stask.php
// (Evolution CMS: core/custom/config/stask.php).
return [
    // Worker loops the scheduled `stask:worker` runs on this host at most
    // (overlapping cron ticks share them); `--concurrency` overrides it.
    'concurrency' => (int) (getenv('STASK_CONCURRENCY') ?: 1),

    // Where the admin module and the REST API are mounted in a Laravel host
    // (Evolution CMS: always under the manager, /manager/<prefix>).
    // `middleware` null: the `mgr` group, which is the host's `web` group
    // unless the host defines `mgr` itself (config('app.middleware.mgr')).
    'routes' => [
        'prefix' => 'stask',
        'middleware' => null,
    ],

    // The engine's log records (a task failed, was retried or rescued; the
    // database went away and came back; a lease was lost; a worker process
    // crashed) go to the host's logger on this channel (null: the default
    // channel), from this level up: error, warning, info, debug or off.
    // STASK_LOG overrides the level for a run (STASK_LOG=debug php artisan ...).
    'log_channel' => getenv('STASK_LOG_CHANNEL') ?: null,
    'log_level' => getenv('STASK_LOG_LEVEL') ?: 'warning',
];
