<?php

// Composer-free autoloading for the harness: Debian's Illuminate stack plus
// PSR-4 for App\ and the sTask package (STASK_PHP_DIR overrides where the
// package lives, so a copy of this app in a temp folder still finds it).
require_once 'Illuminate/autoload.php';

(static function (): void {
    $package = getenv('STASK_PHP_DIR') ?: __DIR__ . '/../../../php';
    $map = [
        'App\\' => __DIR__ . '/../app/',
        'Seiger\\sTask\\' => rtrim($package, '/') . '/src/',
    ];
    spl_autoload_register(static function (string $class) use ($map): void {
        foreach ($map as $prefix => $dir) {
            if (strncmp($class, $prefix, strlen($prefix)) === 0) {
                $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                }

                return;
            }
        }
    });
})();

// HARNESS_HOST=laravel: a plain Laravel host, no evo() (permission by the `stask` Gate).
if (getenv('HARNESS_HOST') !== 'laravel') {
    require_once __DIR__ . '/../shims/evolution.php';
}
