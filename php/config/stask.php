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
];
