<?php

return [
    'default' => env('LOG_CHANNEL', 'single'),
    'channels' => [
        'single' => ['driver' => 'single', 'path' => storage_path('logs/laravel.log'), 'level' => 'debug'],
        // STASK_LOG_CHANNEL=stask_events routes the engine's records here.
        'stask_events' => ['driver' => 'single', 'path' => storage_path('logs/stask-events.log'), 'level' => 'debug'],
        'stderr' => ['driver' => 'monolog', 'handler' => Monolog\Handler\StreamHandler::class, 'with' => ['stream' => 'php://stderr']],
    ],
];
