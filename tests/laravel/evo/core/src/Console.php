<?php

namespace EvolutionCMS;

use Illuminate\Console\Application as Artisan;
use Illuminate\Console\Events\ArtisanStarting;
use Illuminate\Http\Request;
use Symfony\Component\Console\Application as SymfonyApplication;

/**
 * core/artisan's console: Illuminate's console application without a
 * Foundation Kernel, so only what providers register exists (no
 * schedule:run of its own). Exceptions are not caught by the console: they
 * reach the core's handler, as on a real core.
 */
class Console extends Artisan
{
    public function __construct(Core $laravel, $events, $version)
    {
        SymfonyApplication::__construct($laravel->getVersionData('branch'), $version);
        $this->laravel = $laravel;
        $this->events = $events;
        $this->setAutoExit(false);
        $this->setCatchExceptions(false);
        $laravel->instance('request', Request::create((string) $laravel->getConfig('site_url', MODX_SITE_URL), 'GET'));
        $this->events->dispatch(new ArtisanStarting($this));
        $laravel->loadDeferredProviders();
        $this->bootstrap();
    }

    protected function getDefaultInputDefinition(): \Symfony\Component\Console\Input\InputDefinition
    {
        return SymfonyApplication::getDefaultInputDefinition();
    }
}
