<?php

// core/config/app.php of the harness core. No `timezone` key: a core whose
// configuration has none must still run the package's commands.
return [
    'env' => env('APP_ENV', 'production'),
    'debug' => false,
    'locale' => env('APP_LOCALE', 'en'),
    'fallback_locale' => 'en',

    'providers' => [
        'Bootstrap_ExceptionHandler' => EvolutionCMS\Providers\ExceptionHandlerServiceProvider::class,
        'Console_Artisan' => EvolutionCMS\Providers\ArtisanServiceProvider::class,
        'Console_Composer' => EvolutionCMS\Providers\ComposerServiceProvider::class,
        'Console_Migration' => Illuminate\Database\MigrationServiceProvider::class,
        'Laravel_View' => Illuminate\View\ViewServiceProvider::class,
        'Laravel_Database' => Illuminate\Database\DatabaseServiceProvider::class,
        'Laravel_Filesystem' => Illuminate\Filesystem\FilesystemServiceProvider::class,
        'Laravel_Cache' => Illuminate\Cache\CacheServiceProvider::class,
        'Laravel_Lang' => Illuminate\Translation\TranslationServiceProvider::class,
        'Laravel_Validator' => Illuminate\Validation\ValidationServiceProvider::class,
        'Evolution_Routing' => EvolutionCMS\Providers\RoutingServiceProvider::class,
        'Evolution_Session' => Illuminate\Session\SessionServiceProvider::class,
    ],

    'aliases' => [],

    'middleware' => [
        'mgr' => [
            EvolutionCMS\Middleware\VerifyCsrfToken::class,
            EvolutionCMS\Middleware\Manager::class,
            Illuminate\Session\Middleware\StartSession::class,
            Illuminate\Routing\Middleware\SubstituteBindings::class,
        ],
        'global' => [
            Illuminate\Session\Middleware\StartSession::class,
            Illuminate\Routing\Middleware\SubstituteBindings::class,
        ],
        'aliases' => [
            'csrf' => EvolutionCMS\Middleware\VerifyCsrfToken::class,
            'bindings' => Illuminate\Routing\Middleware\SubstituteBindings::class,
        ],
    ],
];
