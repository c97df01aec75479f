<?php

namespace EvolutionCMS\Providers;

use EvolutionCMS\ExceptionHandler;
use Illuminate\Support\ServiceProvider;

/** As the 3.1 core: the handler is the service `ExceptionHandler`, nothing else. */
class ExceptionHandlerServiceProvider extends ServiceProvider
{
    public function register()
    {
        $this->app->singleton('ExceptionHandler', static fn () => new ExceptionHandler());
        $this->app->make('ExceptionHandler');
    }
}
