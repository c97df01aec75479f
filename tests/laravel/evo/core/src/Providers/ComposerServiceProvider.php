<?php

namespace EvolutionCMS\Providers;

use Illuminate\Support\Composer;
use Illuminate\Support\ServiceProvider;

/** `composer`, which the migration commands need (as the core's Console_Composer). */
class ComposerServiceProvider extends ServiceProvider
{
    public function register()
    {
        $this->app->singleton('composer', static fn ($app) => new Composer($app['files'], $app->basePath()));
    }
}
