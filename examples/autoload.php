<?php

/**
 * Autoloader for the example workers (namespace Examples\Workers\ ->
 * examples/workers/). Requires php/autoload.php first, since the workers
 * extend Seiger\sTask\Workers\BaseWorker.
 */

declare(strict_types=1);

require_once __DIR__ . '/../php/autoload.php';

if (!defined('STASK_EXAMPLES_AUTOLOADER')) {
    define('STASK_EXAMPLES_AUTOLOADER', __DIR__ . '/workers/');

    spl_autoload_register(static function (string $class): void {
        $prefix = 'Examples\\Workers\\';
        if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
            return;
        }
        $file = STASK_EXAMPLES_AUTOLOADER . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    });
}
