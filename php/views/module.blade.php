{{-- The admin module page inside Laravel / Evolution CMS: views/module.php with the adapter's data ($page). --}}
{!! \Seiger\sTask\Http\ModulePage::render($page) !!}
