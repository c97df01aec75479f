<?php

/**
 * Autoloader for the PHP half of sTask when Composer is not in use.
 *
 * The facade, the models, the exceptions and TaskInterface live in the stask
 * extension; this package adds the PHP classes that user code extends
 * (BaseWorker). Without the extension those classes cannot even be declared,
 * so we stop here with a message that says what to do instead of failing
 * later with "interface not found".
 */

declare(strict_types=1);

if (!extension_loaded('stask')) {
    throw new \RuntimeException(
        'sTask needs the stask PHP extension, which is not loaded: '
        . 'add "extension=stask" (or the full path to libstask.so) to php.ini, '
        . 'or run php with -d extension=/path/to/libstask.so'
    );
}

if (!defined('STASK_PHP_AUTOLOADER')) {
    define('STASK_PHP_AUTOLOADER', __DIR__ . '/src/');

    spl_autoload_register(static function (string $class): void {
        $prefix = 'Seiger\\sTask\\';
        if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
            return;
        }
        $file = STASK_PHP_AUTOLOADER . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    });
}
