<?php

// The worker process of the HTTP tests: runs tasks until run.sh stops it.

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;

require __DIR__ . '/server.php';

sTask::work(['max_seconds' => 600, 'sleep' => 0.1]);
