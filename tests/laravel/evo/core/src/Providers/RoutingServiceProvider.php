<?php

namespace EvolutionCMS\Providers;

use EvolutionCMS\Router;
use Illuminate\Routing\RoutingServiceProvider as IlluminateRoutingServiceProvider;

/**
 * Laravel's routing services with the core's Router, and in the manager
 * (and artisan) URLs rooted at the manager, as the core forces them.
 */
class RoutingServiceProvider extends IlluminateRoutingServiceProvider
{
    public function register()
    {
        parent::register();
        if ($this->app->isBackend()) {
            $this->app->resolving('url', static function ($url): void {
                $url->forceRootUrl(rtrim(MODX_MANAGER_URL, '/'));
            });
        }
    }

    protected function registerRouter()
    {
        $this->app->singleton('router', static fn ($app) => new Router($app['events'], $app));
    }
}
