<?php

// Loaded by the standalone server (STASK_BOOTSTRAP) and by the worker process
// of the browser tests: the example workers' autoloader and the
// storage_path() they write their exports under (the folder holding
// STASK_STORAGE, so results are inside the engine's storage).

declare(strict_types=1);

require_once __DIR__ . '/../../php/autoload.php';
require_once __DIR__ . '/../../examples/autoload.php';
if (is_file('/usr/share/php/Carbon/autoload.php')) {
    require_once '/usr/share/php/Carbon/autoload.php';
}

if (!function_exists('storage_path')) {
    function storage_path(string $path = ''): string
    {
        $root = dirname((string) getenv('STASK_STORAGE'));

        return $root . ($path === '' ? '' : '/' . ltrim($path, '/'));
    }
}
