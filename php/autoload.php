<?php

/**
 * Autoloader for the PHP half of sTask when Composer is not in use.
 *
 * The facade, the models, the exceptions and TaskInterface live in the stask
 * extension; this package adds the PHP classes that user code extends
 * (BaseWorker) and the host glue. Including this file never breaks the page
 * that includes it: without the extension (or with a version outside
 * Support\ExtensionVersion::SUPPORTED) it says in PHP's log what to do,
 * and only the classes that need the extension fail when used.
 */

declare(strict_types=1);

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

if (!defined('STASK_MISSING_EXTENSION_LOGGED')) {
    if (!extension_loaded('stask')) {
        define('STASK_MISSING_EXTENSION_LOGGED', true);
        error_log(
            'sTask needs the stask PHP extension, which this PHP (' . PHP_SAPI . ') has not loaded: '
            . 'add "extension=stask" (or the full path to stask.so) to its php.ini, '
            . 'or run php with -d extension=/path/to/stask.so'
        );
    } elseif (\Seiger\sTask\Support\ExtensionVersion::mismatched()) {
        // Another version of the extension counts as missing: said once.
        define('STASK_MISSING_EXTENSION_LOGGED', true);
        error_log(\Seiger\sTask\Support\ExtensionVersion::mismatchMessage());
    }
}
