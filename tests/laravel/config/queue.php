<?php

return [
    'default' => env('QUEUE_CONNECTION', 'sync'),
    'connections' => [
        'sync' => ['driver' => 'sync'],
        'stask' => ['driver' => 'stask', 'queue' => 'default'],
    ],
    'failed' => ['driver' => 'null'],
];
