<?php

/*
 * What core/vendor/autoload.php gives a 3.1 core: the illuminate/* components
 * and their dependencies, without Illuminate\Foundation (Debian's
 * Illuminate/autoload.php would add Foundation's class map and helpers, so
 * each component is loaded on its own here). Then PSR-4 for the core
 * (EvolutionCMS\), the harness app (App\, its workers and jobs) and the
 * package (STASK_PHP_DIR).
 */

foreach ([
    'Carbon', 'Cron', 'Doctrine/Inflector', 'Dotenv', 'Psr/Container', 'Psr/Log', 'Psr/SimpleCache',
    'Monolog', 'Ramsey/Uuid', 'Opis/Closure', 'Laravel/SerializableClosure', 'voku/helper',
    'Symfony/Component/Console', 'Symfony/Component/ErrorHandler', 'Symfony/Component/Finder',
    'Symfony/Component/HttpFoundation', 'Symfony/Component/HttpKernel', 'Symfony/Component/Mime',
    'Symfony/Component/Process', 'Symfony/Component/Routing', 'Symfony/Component/VarDumper',
    'Illuminate/Bus', 'Illuminate/Cache', 'Illuminate/Collections', 'Illuminate/Config', 'Illuminate/Console',
    'Illuminate/Container', 'Illuminate/Contracts', 'Illuminate/Cookie', 'Illuminate/Database',
    'Illuminate/Encryption', 'Illuminate/Events', 'Illuminate/Filesystem', 'Illuminate/Hashing',
    'Illuminate/Http', 'Illuminate/Log', 'Illuminate/Macroable', 'Illuminate/Pagination', 'Illuminate/Pipeline',
    'Illuminate/Routing', 'Illuminate/Session', 'Illuminate/Support', 'Illuminate/Translation',
    'Illuminate/Validation', 'Illuminate/View',
] as $component) {
    require_once $component . '/autoload.php';
}
require_once 'Illuminate/Collections/helpers.php';
require_once 'Illuminate/Events/functions.php';
require_once 'Illuminate/Support/helpers.php';

(static function (): void {
    $package = getenv('STASK_PHP_DIR') ?: __DIR__ . '/../../../../php';
    $map = [
        'EvolutionCMS\\' => __DIR__ . '/src/',
        'App\\' => __DIR__ . '/../../app/',
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
