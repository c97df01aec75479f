<?php

// config/queue.php of the benchmark app: Laravel's own `database` and
// `redis` drivers, and stask's `stask` driver.
return [
    'default' => env('QUEUE_CONNECTION', 'database'),
    'connections' => [
        'sync' => ['driver' => 'sync'],
        'database' => [
            'driver' => 'database',
            'table' => 'jobs',
            'queue' => 'default',
            'retry_after' => 90,
            'after_commit' => false,
        ],
        'redis' => [
            'driver' => 'redis',
            'connection' => 'default',
            'queue' => 'default',
            'retry_after' => 90,
            'block_for' => null,
            'after_commit' => false,
        ],
        'stask' => ['driver' => 'stask', 'queue' => 'default'],
    ],
    'failed' => ['driver' => 'null'],
];
