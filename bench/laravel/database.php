<?php

// config/database.php of the benchmark app: the harness app's own
// connections (kept as config/database.base.php) plus Laravel's `redis`
// section for the redis queue leg (phpredis, 127.0.0.1:6379). Every app copy
// gets its own key prefix (REDIS_PREFIX), whose keys it deletes at the end.
$config = require __DIR__ . '/database.base.php';
$config['redis'] = [
    'client' => 'phpredis',
    'options' => ['prefix' => env('REDIS_PREFIX', 'stask_bench:')],
    'default' => ['host' => '127.0.0.1', 'port' => 6379, 'database' => 0, 'password' => null],
];

return $config;
